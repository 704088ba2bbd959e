"""WebGazer on the accuracy bench's frames: a canvas camera stream, its ridge trained on the same dots, its error on the same held-out frames."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from gazesite.bench.accuracy import PersonFrames

#: WebGazer keeps only its last 50 clicks: with more frames per dot than fit, each dot gets an even share.
WEBGAZER_CLICKS = 50

_WEBGAZER_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>WebGazer __VERSION__ accuracy (gazesite bench peer)</title>
<link rel="icon" href="data:,"></head>
<body style="margin:0">
<canvas id="source" width="320" height="240" style="display:none"></canvas>
<script src="webgazer.js"></script>
<script>
// The camera is a canvas stream: each frame of the benchmark is drawn on it, exactly.
const source = document.getElementById('source');
source.getContext('2d').fillRect(0, 0, source.width, source.height);  // a canvas without a context streams nothing
const stream = source.captureStream(0);
const [track] = stream.getVideoTracks();
navigator.mediaDevices.getUserMedia = async () => stream;
// The video element learns its size from a first frame; without one, WebGazer's start never finishes.
const starter = setInterval(() => track.requestFrame(), 50);
webgazer.params.faceMeshSolutionPath = '/mediapipe/face_mesh';
webgazer.params.saveDataAcrossSessions = false;
webgazer.params.showVideo = false;
webgazer.params.showVideoPreview = false;
webgazer.params.showFaceOverlay = false;
webgazer.params.showFaceFeedbackBox = false;
webgazer.params.showGazeDot = false;
webgazer.applyKalmanFilter(false);
window.peerReady = webgazer.setRegression('ridge').begin().finally(() => clearInterval(starter));

// Show one frame on the camera and make WebGazer read its eyes from it.
async function look(image) {
  source.getContext('2d').putImageData(image, 0, 0);
  const video = document.getElementById(webgazer.params.videoElementId);
  const shown = new Promise((resolve) => video.requestVideoFrameCallback(() => resolve()));
  track.requestFrame();
  await shown;
  const canvas = webgazer.getVideoElementCanvas();
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext('2d', { willReadFrequently: true }).drawImage(video, 0, 0, canvas.width, canvas.height);
  return webgazer.getCurrentPrediction();
}

window.peerRun = async ({url, width, height, screen, calibrations, test}) => {
  await window.peerReady;
  const bytes = new Uint8ClampedArray(await (await fetch(url)).arrayBuffer());
  const size = width * height * 4;
  const image = (i) => new ImageData(bytes.slice(i * size, (i + 1) * size), width, height);
  const out = {};
  for (const [points, frames] of Object.entries(calibrations)) {
    await webgazer.clearData();
    let clicks = 0;
    for (const [index, [x, y]] of frames) {
      await look(image(index));
      // Targets in screen px: WebGazer's ridge regresses whatever positions it is given.
      const before = webgazer.getRegression()[0].eyeFeaturesClicks.length;
      webgazer.recordScreenPosition(x * screen[0], y * screen[1], 'click');
      if (webgazer.getRegression()[0].eyeFeaturesClicks.length > before) clicks += 1;
    }
    const results = [];
    for (const [index] of test) {
      const prediction = await look(image(index));
      results.push(prediction ? { gaze: [prediction.x / screen[0], prediction.y / screen[1]] } : { gaze: null });
    }
    out[points] = { clicks, results };
  }
  return out;
};
</script>
</body></html>
"""

#: The screen WebGazer's targets are scaled to (px): any size works, the errors are fractions.
WEBGAZER_SCREEN = (1280, 800)


def webgazer_share(frames: list[tuple[int, tuple[float, float]]]) -> list[tuple[int, tuple[float, float]]]:
    """Frames WebGazer can keep: with more than 50, an evenly spaced share of each dot's frames."""
    dots: dict[tuple[float, float], list[int]] = {}
    for index, target in frames:
        dots.setdefault(target, []).append(index)
    per_dot = max(1, WEBGAZER_CLICKS // len(dots))
    kept: list[tuple[int, tuple[float, float]]] = []
    for target, indices in dots.items():
        picks = np.linspace(0, len(indices) - 1, min(per_dot, len(indices))).round().astype(int)
        kept.extend((indices[i], target) for i in sorted(set(picks.tolist())))
    return kept


def webgazer_person(page: Any, url: str, person: PersonFrames) -> dict[str, Any]:
    """The same person through WebGazer: clicks at the same dots, predictions on the same held-out frames."""
    payload = {
        "url": url,
        "width": int(person.frames[0].shape[1]),
        "height": int(person.frames[0].shape[0]),
        "screen": list(WEBGAZER_SCREEN),
        "calibrations": {str(k): [[i, list(t)] for i, t in webgazer_share(v)] for k, v in person.calibration.items()},
        "test": [[i, list(t)] for i, t in person.test],
    }
    from gazesite.bench.accuracy import held_out_error  # the same error measure as gazesite's (that module imports this one)

    runs = page.evaluate("(payload) => window.peerRun(payload)", payload)
    out = {}
    for points, run in runs.items():
        after, seen = held_out_error(run["results"], person.test, "gaze")
        out[points] = {"after": after, "held_out_frames": seen, "clicks": run["clicks"]}
    return out


def write_webgazer_page(package: Path, out: Path) -> Path:
    """The accuracy peer page beside links to the bundle and the FaceMesh files."""
    from gazesite.bench.peers import WEBGAZER_VERSION, write_peer_page

    write_peer_page(package, out)
    (out / "index.html").write_text(_WEBGAZER_PAGE.replace("__VERSION__", WEBGAZER_VERSION))
    return out
