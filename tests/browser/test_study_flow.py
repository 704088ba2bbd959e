"""A study build shows participants a study: consent, head guide, calibration, the page bare, Finish, the finish URL.

Everything is real: ``gazesite collect`` in its own process, the study page served by ``gazesite serve``,
Chromium with a synthetic face as its camera. During the calibration dots the page's test hook
(``window.gazesite.feedCalibration``) hands the flow frames of a face looking at each dot; the dots, the
pacing and the screens are the real flow's.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest

from gazesite.bench.fakecam import write_y4m
from gazesite.chromium import DECODE_FRAME, camera_args, rgba_payload, wait_ready
from gazesite.collect.storage import read_sessions
from gazesite.data import faces
from gazesite.data.faces import cartoon

from ..helpers import gazesite as gazesite_cli
from ..helpers.collect import CollectProcess, free_port
from ..helpers.pages import docs_picture, watch

pytestmark = pytest.mark.browser

PID = "abc123def456abc123def456"
VIEWPORT = {"width": 1280, "height": 800}
# Fewer dots keep the real flow's pacing (0.8 s settle + 0.9 s collect a dot) short: 5 fit + 4 check dots.
POINTS = "5"
FRAMES_PER_DOT = 3

#: Hands the calibration flow the given frames per dot (see window.gazesite.feedCalibration).
FEED_IN_PAGE = (
    "async (entries) => {"
    f" {DECODE_FRAME}"
    " await window.gazesite.feedCalibration(entries.map(({dot, phase, frames}) => ({dot, phase, images: frames.map(decodeFrame)})));"
    "}"
)


def centred_face_video(path: Path, seed: int = 31) -> Path:
    """A synthetic person looking around, moved so that the face box sits in the middle of the camera picture."""
    rng = np.random.default_rng(seed)
    person = cartoon.random_identity(rng)
    frames = []
    for _ in range(12):
        frame = cartoon.render_face(cartoon.jitter(person, rng), (float(rng.uniform(0, 1)), float(rng.uniform(0, 1))), rng)
        # The renderer draws this face about 58 px left of centre in 320 px: shift it right, repeating the edge.
        shifted = np.concatenate([np.repeat(frame[:, :1], 58, axis=1), frame[:, :-58]], axis=1)
        frames.extend([shifted] * 3)
    return write_y4m(path, frames)


def feed_entries(config: dict[str, Any], person: cartoon.Identity, mislead: bool = False) -> list[dict[str, Any]]:
    """Frames of ``person`` looking at each calibration dot; ``mislead``: at the opposite dot while fitting."""
    entries = []
    for phase, layout in (("fit", config["calibration"]["layout"]), ("check", config["calibration"]["checkLayout"])):
        for index, dot in enumerate(layout):
            looked = (1 - dot[0], 1 - dot[1]) if mislead and phase == "fit" else tuple(dot)
            samples = faces.person_frames("cartoon", person, [looked], FRAMES_PER_DOT, seed=index)
            entries.append({"dot": dot, "phase": phase, "frames": [rgba_payload(s.frame) for s in samples]})
    return entries


class FinishServer:
    """The recruitment platform's completion page: records every query it is called with."""

    def __init__(self) -> None:
        self.queries: list[dict[str, list[str]]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if urlsplit(self.path).path == "/complete":  # not the browser's own /favicon.ico
                    outer.queries.append(parse_qs(urlsplit(self.path).query))
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(b"<!doctype html><title>Completed</title><p>Study completed.</p>")

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/complete?cc=C0DE"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def finish_server() -> Iterator[FinishServer]:
    server = FinishServer()
    yield server
    server.httpd.shutdown()


@pytest.fixture(scope="module")
def face_browser(launch_chromium: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return launch_chromium(*camera_args(centred_face_video(tmp_path_factory.mktemp("camera") / "centred.y4m")))


def overlay_state(page: Any) -> dict[str, bool]:
    """Whether each researcher overlay is visible, and whether the heatmap has drawn anything."""
    return page.evaluate(
        """() => {
      const shown = (id) => { const e = document.getElementById(id); return !!e && e.checkVisibility(); };
      const canvas = document.querySelector('#heatmap canvas');
      let painted = false;
      if (canvas && canvas.width > 0) {
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) { painted = true; break; }
      }
      return { heatmap: shown('heatmap') && !!canvas, painted, dot: shown('gaze-dot'), panel: shown('panel'),
               controls: shown('controls'), calibrate: shown('calibrate'), stats: shown('stats') };
    }"""
    )


def test_a_participant_sees_the_study_and_ends_at_the_finish_url(
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    build_site: Any,
    serve_site: Any,
    target_server: Any,
    face_browser: Any,
    finish_server: FinishServer,
) -> None:
    port = free_port()
    dist = build_site(
        target_server.url("/flow"),
        "--collect",
        f"http://127.0.0.1:{port}/batches",
        "--study",
        "flow",
        "--calibration-points",
        POINTS,
        "--finish-url",
        finish_server.url,
        "--task",
        "Find the *price* of the plan.",
    )
    site = serve_site(dist)
    collect = CollectProcess(tmp_path_factory.mktemp("collect") / "study.db", f"http://localhost:{site.port}", port).start()
    try:
        page = face_browser.new_context(viewport=VIEWPORT).new_page()
        problems = watch(page)
        page.goto(f"{site.url}?PROLIFIC_PID={PID}")
        wait_ready(page)
        assert page.evaluate("window.gazesite.participant") == {"phase": "consent", "id": PID}
        docs_picture(page, "participant-consent.png")
        page.click("#consent-accept")

        # The head guide: Continue enables once the centred, well-lit face has held for a second.
        assert page.locator("#guide").is_visible()
        page.wait_for_function("!document.querySelector('#guide-continue').disabled", timeout=30_000)
        assert "Continue" in page.inner_text("#guide")
        docs_picture(page, "participant-guide.png")
        config = page.evaluate("window.gazesite.config")
        person = cartoon.new_person(2)
        page.evaluate(FEED_IN_PAGE, feed_entries(config, person))
        page.click("#guide-continue")

        # The real calibration flow starts by itself; a calibration that helps is used without a result screen.
        assert page.locator(".calibration-dot").is_visible()
        page.wait_for_selector("#task", state="visible", timeout=60_000)
        assert not page.locator("#calibration-result").is_visible()
        assert page.evaluate("window.gazesite.calibration") is not None
        assert page.evaluate("window.gazesite.samples.length") == 0  # nothing is logged before the page
        assert "price" in page.inner_text("#task-text") and page.locator("#task-text em").count() == 1
        docs_picture(page, "participant-task.png")
        page.click("#task-start")
        page.wait_for_function("window.gazesite.samples.length >= 20", timeout=30_000)

        # Nothing over the page but Finish: the overlays are hidden, and the page looks as the target does alone.
        assert overlay_state(page) == dict.fromkeys(("heatmap", "painted", "dot", "panel", "controls", "calibrate", "stats"), False)
        finish = page.locator("#finish").bounding_box()
        assert finish is not None and finish["width"] * finish["height"] < 80 * 40
        shot = page.screenshot()
        docs_picture(page, "participant-page.png")
        bare = face_browser.new_context(viewport=VIEWPORT).new_page()
        bare.goto(target_server.url("/flow"))
        bare_shot = bare.screenshot()
        assert_same_outside(shot, bare_shot, finish)

        session = page.evaluate("window.gazesite.collect.session")
        first_t = page.evaluate("window.gazesite.samples[0].t")
        with page.expect_navigation(url=lambda url: url.startswith(finish_server.url.split("?")[0]), timeout=20_000):
            page.click("#finish")
        assert finish_server.queries == [{"cc": ["C0DE"], "pid": [PID]}]
        problems.assert_none()

        stored = stored_session(collect.db, session)
        assert stored["participant"] == PID
        assert stored["pageStart"] is not None and stored["pageStart"] <= first_t
        assert stored["pageEnd"] is not None and stored["pageEnd"] >= stored["samples"][-1]["t"]
        assert all(sample["t"] >= stored["pageStart"] for sample in stored["samples"])

        # The report reads the same database and names the participant by the platform's id.
        report = tmp_path / "report"
        result = gazesite_cli("report", "--db", collect.db, "--out", report)
        assert result.returncode == 0, result.stderr
        rows = [row for row in json.loads((report / "report.json").read_text())["participants"] if row["id"] == session]
        assert len(rows) == 1 and rows[0]["participant_id"] == PID, rows
    finally:
        collect.stop()


def stored_session(db: Path, session: str, timeout: float = 15.0) -> dict[str, Any]:
    """The session as the report reads it, once its last batch (with the page's end) has arrived."""
    deadline = time.monotonic() + timeout
    while True:
        found = [s for s in read_sessions(db) if s["session"] == session]
        if (found and found[0].get("pageEnd") is not None) or time.monotonic() > deadline:
            assert found, f"session {session} never reached the server"
            return found[0]
        time.sleep(0.25)


def assert_same_outside(shot: bytes, bare: bytes, box: dict[str, float]) -> None:
    """Two screenshots are pixel-equal everywhere but inside ``box`` (the Finish button, with a margin)."""
    import cv2

    first = cv2.imdecode(np.frombuffer(shot, np.uint8), cv2.IMREAD_COLOR)
    second = cv2.imdecode(np.frombuffer(bare, np.uint8), cv2.IMREAD_COLOR)
    assert first is not None and second is not None
    assert first.shape == second.shape
    differs = np.any(first != second, axis=2)
    x0, y0 = int(box["x"]) - 4, int(box["y"]) - 4
    x1, y1 = int(box["x"] + box["width"]) + 4, int(box["y"] + box["height"]) + 4
    differs[max(0, y0) : y1, max(0, x0) : x1] = False
    assert not differs.any(), f"{int(differs.sum())} pixels differ from the bare target page, e.g. at {np.argwhere(differs)[:3].tolist()}"


def researcher_view(page: Any) -> dict[str, bool]:
    """Which parts of the researcher view show: the panel's controls, the heatmap's layer; and whether a participant screen exists."""
    return page.evaluate(
        """() => ({
      panel: document.getElementById('panel').checkVisibility(),
      calibrate: document.getElementById('calibrate').checkVisibility(),
      samples: document.getElementById('download-json').checkVisibility(),
      heatmap: !document.getElementById('heatmap').hidden && !!document.querySelector('#heatmap canvas'),
      participantScreens: !!document.getElementById('guide') || !!document.getElementById('finish'),
    })"""
    )


RESEARCHER = {"panel": True, "calibrate": True, "samples": True, "heatmap": True, "participantScreens": False}


def test_a_build_without_collect_shows_the_researcher_view(build_site: Any, serve_site: Any, target_server: Any, face_browser: Any) -> None:
    site = serve_site(build_site(target_server.url("/plain")))
    page = face_browser.new_context(viewport=VIEWPORT).new_page()
    page.goto(site.url)
    wait_ready(page)
    assert researcher_view(page) == RESEARCHER
    assert page.evaluate("window.gazesite.participant") is None
    page.wait_for_function("window.gazesite.samples.length > 0", timeout=30_000)  # no consent, no guide: tracking at once


def test_researcher_view_on_a_study_build_and_redo_first_when_calibration_is_worse_than_the_model(
    build_site: Any, serve_site: Any, target_server: Any, face_browser: Any
) -> None:
    # No server behind --collect: sending fails and retries, which the researcher view says and nothing else minds.
    dist = build_site(
        target_server.url("/pilot"),
        "--collect",
        f"http://127.0.0.1:{free_port()}/batches",
        "--researcher-view",
        "--calibration-points",
        POINTS,
    )
    page = face_browser.new_context(viewport=VIEWPORT).new_page()
    page.goto(serve_site(dist).url)
    wait_ready(page)
    page.click("#consent-accept")
    page.wait_for_function("document.querySelector('#status').dataset.state === 'running'", timeout=30_000)
    assert researcher_view(page) == RESEARCHER

    # Fitted on frames that look at the opposite dot: on the check dots the mapping is worse than the model alone.
    page.evaluate(FEED_IN_PAGE, feed_entries(page.evaluate("window.gazesite.config"), cartoon.new_person(2), mislead=True))
    page.click("#calibrate")
    page.wait_for_selector("#calibration-result", state="visible", timeout=60_000)
    figures = page.evaluate("window.gazesite.calibration")
    assert figures is None  # nothing is active before a choice
    assert "did not help" in page.inner_text("#calibration-result-title")
    assert "less accurate than the model alone" in page.inner_text("#calibration-figures")
    assert page.get_attribute("#calibration-result", "data-poor") == "true"
    assert page.evaluate("document.activeElement.id") == "calibration-redo"
    assert "recommended" in (page.get_attribute("#calibration-redo", "class") or "")
    page.click("#calibration-accept")  # still possible: the researcher decides
    summary = page.evaluate("window.gazesite.calibration")
    assert summary["validation"]["error"] > summary["validation"]["rawError"]
    status = page.locator("#calibration-status")
    assert status.get_attribute("data-calibrated") == "true" and status.get_attribute("data-quality") == "worse"
    assert "worse than the model alone" in status.inner_text()
    # Not green: the colour of a good calibration is kept for good ones.
    assert status.evaluate("(e) => getComputedStyle(e).color") != "rgb(61, 220, 132)"
    # The page's own style sheet gives green to a good calibration only: not to a poor one, nor to one no check measured.
    colours = status.evaluate(
        """(e) => Object.fromEntries(['good', 'poor', 'worse', 'unchecked'].map((quality) => {
             e.dataset.quality = quality;
             return [quality, getComputedStyle(e).color];
           }))"""
    )
    assert colours["good"] == "rgb(61, 220, 132)" and all(colours[q] != colours["good"] for q in ("poor", "worse", "unchecked")), colours
