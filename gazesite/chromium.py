"""Drive Debian's Chromium with Playwright: shared by `build --snapshot`, `gazesite bench` and the browser tests.

Playwright's own browser download does not work offline, so gazesite always
launches the system Chromium (``GAZESITE_CHROMIUM`` overrides the path).
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import numpy as np

from gazesite.errors import GazesiteError

CHROMIUM = Path(os.environ.get("GAZESITE_CHROMIUM", "/usr/bin/chromium"))
BASE_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    # Without these, Chromium keeps calling hosts a closed network refuses.
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
)
FAKE_CAMERA_ARGS = ("--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream")
READY_TIMEOUT_MS = 60_000

#: Turns a frame sent as {width, height, data: base64 RGBA} (rgba_payload) back into ImageData inside the page.
DECODE_FRAME = "const decodeFrame = ({width, height, data}) => new ImageData(Uint8ClampedArray.from(atob(data), (c) => c.charCodeAt(0)), width, height);"


def page_function(params: str, body: str) -> str:
    """A function for ``page.evaluate`` whose body may call ``decodeFrame(frame)``."""
    return f"async ({params}) => {{\n  {DECODE_FRAME}\n{body}\n}}"


#: processFrame on one frame (full-frame search).
PROCESS_IN_PAGE = page_function("frame", "  return await window.gazesite.processFrame(decodeFrame(frame));")
#: trackFrames on a sequence (the live loop's face tracking).
TRACK_IN_PAGE = page_function("frames", "  return await window.gazesite.trackFrames(frames.map(decodeFrame));")
#: calibrate() on [{frame, target}].
CALIBRATE_IN_PAGE = page_function(
    "samples", "  return await window.gazesite.calibrate(samples.map(({frame, target}) => ({image: decodeFrame(frame), target})));"
)


def camera_args(video: Path | None = None) -> list[str]:
    """Chromium arguments for a granted fake camera, playing ``video`` (Y4M) if given."""
    args = list(FAKE_CAMERA_ARGS)
    if video is not None:
        args.append(f"--use-file-for-fake-video-capture={video}")
    return args


def launch(playwright: Any, *extra_args: str) -> Any:
    """Launch the system Chromium headless with gazesite's base arguments."""
    if not CHROMIUM.exists():
        raise GazesiteError(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) or set GAZESITE_CHROMIUM")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=[*BASE_ARGS, *extra_args])


def wait_ready(page: Any) -> None:
    """Wait until the page's ``window.gazesite.ready`` has resolved."""
    page.wait_for_function("window.gazesite !== undefined", timeout=READY_TIMEOUT_MS)
    page.evaluate("window.gazesite.ready")


def wait_state(page: Any, state: str, timeout_ms: int = READY_TIMEOUT_MS) -> None:
    """Wait until the status line reports ``state``."""
    page.wait_for_function(f"document.querySelector('#status').dataset.state === {state!r}", timeout=timeout_ms)


def rgba_payload(frame: np.ndarray) -> dict[str, Any]:
    """Pack an RGBA frame for page.evaluate (base64 keeps the JSON small)."""
    height, width = frame.shape[:2]
    return {"width": width, "height": height, "data": base64.b64encode(np.ascontiguousarray(frame).tobytes()).decode()}
