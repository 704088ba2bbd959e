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
#: A plain loop over atob's string: 1-2 ms for a 320x240 frame in headless Chromium.
DECODE_FRAME = (
    "const decodeFrame = ({width, height, data}) => {"
    " const text = atob(data); const bytes = new Uint8ClampedArray(text.length);"
    " for (let i = 0; i < text.length; i += 1) bytes[i] = text.charCodeAt(i);"
    " return new ImageData(bytes, width, height); };"
)


#: Packs a processFrame result's crop and eye band (number arrays) as base64: Playwright hands large
#: number arrays back value by value (a frame's round trip took ~85 ms with them, ~25 ms without).
PACK_RESULT = (
    "const packBytes = (values) => { if (values === null) return null; let text = '';"
    " for (let i = 0; i < values.length; i += 8192) text += String.fromCharCode(...values.slice(i, i + 8192));"
    " return btoa(text); };"
    " const packResult = (result) => ({ ...result, crop: packBytes(result.crop), eyes: packBytes(result.eyes) });"
)


def page_function(params: str, body: str) -> str:
    """A function for ``page.evaluate`` whose body may call ``decodeFrame(frame)`` and ``packResult(result)``."""
    return f"async ({params}) => {{\n  {DECODE_FRAME}\n  {PACK_RESULT}\n{body}\n}}"


#: processFrame on one frame (full-frame search), crop and eyes packed (see process_in_page).
PROCESS_IN_PAGE = page_function("frame", "  return packResult(await window.gazesite.processFrame(decodeFrame(frame)));")
#: trackFrames on a sequence (the live loop's face tracking), crops and eyes packed (see track_in_page).
TRACK_IN_PAGE = page_function("frames", "  return (await window.gazesite.trackFrames(frames.map(decodeFrame))).map(packResult);")
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


def launch_options(*extra_args: str, sandbox: bool = False) -> dict[str, Any]:
    """Playwright's launch options for the system Chromium, headless; ``sandbox`` keeps Chromium's own sandbox on."""
    if not CHROMIUM.exists():
        raise GazesiteError(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) or set GAZESITE_CHROMIUM")
    args = [arg for arg in (*BASE_ARGS, *extra_args) if not (sandbox and arg == "--no-sandbox")]
    return {"executable_path": str(CHROMIUM), "args": args}


def launch(playwright: Any, *extra_args: str) -> Any:
    """Launch the system Chromium headless with gazesite's base arguments (tests and benches: no sandbox)."""
    return playwright.chromium.launch(**launch_options(*extra_args))


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


def unpack_result(result: dict[str, Any]) -> dict[str, Any]:
    """A processFrame result from PROCESS_IN_PAGE or TRACK_IN_PAGE with its crop and eye band as uint8 arrays (or None)."""
    for key in ("crop", "eyes"):
        if result.get(key) is not None:
            result[key] = np.frombuffer(base64.b64decode(result[key]), np.uint8)
    return result


def process_in_page(page: Any, frame: np.ndarray) -> dict[str, Any]:
    """window.gazesite.processFrame on one RGBA frame (full-frame search), crop and eyes as uint8 arrays."""
    return unpack_result(page.evaluate(PROCESS_IN_PAGE, rgba_payload(frame)))


def track_in_page(page: Any, frames: list[np.ndarray]) -> list[dict[str, Any]]:
    """window.gazesite.trackFrames on a sequence of RGBA frames, crops and eyes as uint8 arrays."""
    return [unpack_result(result) for result in page.evaluate(TRACK_IN_PAGE, [rgba_payload(frame) for frame in frames])]
