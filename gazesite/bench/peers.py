"""Peers for ``gazesite bench speed|accuracy --peer``: fetch a published gaze tracker once, then serve it offline.

The only peer is WebGazer 3.5.3 (npm ``webgazer@3.5.3``). Its ``dist/webgazer.js``
is a self-contained bundle (TensorFlow.js, face-landmarks-detection and the
MediaPipe FaceMesh solution class), so ``npm pack`` fetches just its tarball;
no dependency is installed. At run time the bundle loads MediaPipe FaceMesh's
wasm, graph and packed model from ``params.faceMeshSolutionPath``; the package
ships those files in ``dist/mediapipe/face_mesh/``; the peer page sets that
path to its own server, which serves that folder. The package is unpacked into the user's cache
(``$XDG_CACHE_HOME/gazesite/peers/webgazer-3.5.3``), never into the repository,
and reused on later runs.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from gazesite.errors import GazesiteError

log = logging.getLogger(__name__)

PEERS = ("webgazer",)
WEBGAZER_VERSION = "3.5.3"
WEBGAZER_SPEC = f"webgazer@{WEBGAZER_VERSION}"
#: Where the package keeps the FaceMesh solution files, and where the page serves them.
FACE_MESH_DIR = "dist/mediapipe/face_mesh"
#: Every file the FaceMesh solution may fetch (the simd or the plain wasm build, whichever the browser runs).
FACE_MESH_FILES = (
    "face_mesh.binarypb",
    "face_mesh_solution_packed_assets_loader.js",
    "face_mesh_solution_packed_assets.data",
    "face_mesh_solution_simd_wasm_bin.js",
    "face_mesh_solution_simd_wasm_bin.wasm",
    "face_mesh_solution_wasm_bin.js",
    "face_mesh_solution_wasm_bin.wasm",
)
#: JS expression the bench reads: gaze-listener calls with a prediction; throws if WebGazer failed to start.
PEER_COUNTER = "(() => { if (window.peerError) throw new Error(window.peerError); return window.peerPredictions; })()"
#: Chromium arguments that leave only localhost resolvable, so the run is offline even on a networked machine.
OFFLINE_ARGS = ("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost",)

NPM_TIMEOUT_S = 600

_PEER_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>WebGazer __VERSION__ (gazesite bench peer)</title>
<link rel="icon" href="data:,"></head>
<body style="margin:0">
<script src="webgazer.js"></script>
<script>
window.peerPredictions = 0;
window.peerError = null;
// Screen points (fractions of the viewport) fed to the ridge regression as clicks:
// without training data WebGazer makes no prediction at all.
const CALIBRATION = [[0.1, 0.1], [0.5, 0.1], [0.9, 0.1], [0.1, 0.5], [0.5, 0.5], [0.9, 0.5], [0.1, 0.9], [0.5, 0.9], [0.9, 0.9]];
// Every file of the FaceMesh solution comes from this server, never a CDN.
webgazer.params.faceMeshSolutionPath = '/mediapipe/face_mesh';
webgazer.params.saveDataAcrossSessions = false;
// gazesite shows no camera preview either (its debug panel is closed); the gaze dot stays, like gazesite's.
webgazer.params.showVideo = false;
webgazer.params.showVideoPreview = false;
webgazer.params.showFaceOverlay = false;
webgazer.params.showFaceFeedbackBox = false;
webgazer.setGazeListener((data) => {
  if (data) window.peerPredictions += 1;
  // A point counts only once its eye features are stored (no face in a frame: try again).
  const stored = webgazer.getRegression()[0].eyeFeaturesClicks.length;
  if (stored < CALIBRATION.length) {
    const [x, y] = CALIBRATION[stored];
    webgazer.recordScreenPosition(x * innerWidth, y * innerHeight, 'click');
  }
}).begin().catch((error) => { window.peerError = `WebGazer did not start: ${error}`; });
</script>
</body></html>
"""


def peer_cache_dir() -> Path:
    """Where WebGazer's npm package is unpacked and kept between runs."""
    from gazesite.paths import default_cache_dir

    return default_cache_dir() / "peers" / f"webgazer-{WEBGAZER_VERSION}"


def is_complete(package: Path) -> bool:
    """Whether an unpacked package holds the bundle and every FaceMesh file at the pinned version."""
    try:
        version = json.loads((package / "package.json").read_text()).get("version")
    except (OSError, ValueError):
        return False
    files = [package / "dist" / "webgazer.js", *(package / FACE_MESH_DIR / name for name in FACE_MESH_FILES)]
    return version == WEBGAZER_VERSION and all(path.is_file() for path in files)


def fetch_webgazer(cache: Path | None = None) -> Path:
    """Return the unpacked webgazer@3.5.3 package folder, fetching it with npm on first use."""
    cache = cache or peer_cache_dir()
    package = cache / "package"
    if is_complete(package):
        log.debug("reusing %s", package)
        return package
    npm = shutil.which("npm")
    if npm is None:
        raise GazesiteError(f"--peer webgazer needs npm to fetch {WEBGAZER_SPEC} once: install Node.js and npm (apt-get install npm)")
    log.info("fetching %s with npm into %s (once)", WEBGAZER_SPEC, cache)
    cache.mkdir(parents=True, exist_ok=True)
    # Unpack beside the final folder and rename: an interrupted fetch never looks complete.
    with tempfile.TemporaryDirectory(prefix="fetch-", dir=cache) as scratch:
        unpacked = unpack(npm_pack(npm, Path(scratch)), Path(scratch) / "unpacked")
        if not is_complete(unpacked):
            raise GazesiteError(f"{WEBGAZER_SPEC} from npm lacks dist/webgazer.js or {FACE_MESH_DIR}/: cannot run the peer")
        shutil.rmtree(package, ignore_errors=True)
        unpacked.rename(package)
    return package


def npm_pack(npm: str, destination: Path) -> Path:
    """Download the package tarball with ``npm pack`` (no dependencies, no install scripts)."""
    command = [npm, "pack", WEBGAZER_SPEC, "--pack-destination", str(destination), "--ignore-scripts", "--json", "--silent"]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=NPM_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise GazesiteError(f"npm pack {WEBGAZER_SPEC} took over {NPM_TIMEOUT_S} s: is the npm registry reachable?") from None
    if result.returncode != 0:
        raise GazesiteError(f"npm pack {WEBGAZER_SPEC} failed: {npm_error(result)}")
    return destination / json.loads(result.stdout)[0]["filename"]


def npm_error(result: subprocess.CompletedProcess[str]) -> str:
    """npm's own summary of a failure (with --json it is on stdout), else its last stderr line."""
    try:
        return str(json.loads(result.stdout)["error"]["summary"])
    except (ValueError, KeyError, TypeError):
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        return lines[-1] if lines else f"exit status {result.returncode}"


def unpack(tarball: Path, out: Path) -> Path:
    """Unpack an npm tarball (its files sit under ``package/``) and return that folder."""
    with tarfile.open(tarball) as archive:
        archive.extractall(out, filter="data")  # refuses absolute paths, links out of the tree, devices
    return out / "package"


def write_peer_page(package: Path, out: Path) -> Path:
    """Write the peer page into ``out`` (index.html, links to the bundle and FaceMesh files) and return it."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "index.html").write_text(_PEER_PAGE.replace("__VERSION__", WEBGAZER_VERSION))
    # Copies, not links: gazesite's server refuses links that lead out of the served folder (19 MB, thrown away after the run).
    shutil.copyfile(package / "dist" / "webgazer.js", out / "webgazer.js")
    shutil.copytree(package / FACE_MESH_DIR, out / "mediapipe" / "face_mesh")
    return out
