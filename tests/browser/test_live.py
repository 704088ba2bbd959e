"""The live page on a fake camera: it runs, draws, logs, leaks nothing, and talks to no one else."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from gazesite.bench.fakecam import face_video
from gazesite.chromium import camera_args, wait_state

from ..helpers.pages import watch


@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory, launch_chromium: Any, build_site: Any, serve_site: Any, target_server: Any
) -> dict[str, Any]:
    video = face_video(tmp_path_factory.mktemp("camera") / "face.y4m")
    browser = launch_chromium(*camera_args(video))
    dist = build_site(target_server.url("/study"))
    server = serve_site(dist)
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    problems = watch(page)
    page.goto(server.url)
    wait_state(page, "running")
    page.wait_for_function("window.gazesite.samples.length >= 30", timeout=30_000)
    return {"page": page, "requests": requests, "problems": problems, "server": server, "target": target_server}


def test_reaches_running_and_logs_samples(live: dict[str, Any]) -> None:
    page = live["page"]
    assert page.locator("#status").get_attribute("data-state") == "running"
    samples = page.evaluate("window.gazesite.samples")
    viewport = page.viewport_size
    for sample in samples:
        assert 0 <= sample["x"] <= viewport["width"] and 0 <= sample["y"] <= viewport["height"]
        assert sample["viewport"] == [viewport["width"], viewport["height"]]
        assert len(sample["face"]) == 4 and sample["face"][2] >= 70
    assert samples[-1]["t"] > samples[0]["t"]
    assert page.locator("#backend").inner_text().strip() != ""


def test_heatmap_gets_points(live: dict[str, Any]) -> None:
    painted = live["page"].evaluate(
        """() => {
      const canvas = document.querySelector('#heatmap canvas');
      const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let painted = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
      return painted;
    }"""
    )
    assert painted > 100


def test_tensors_do_not_leak(live: dict[str, Any]) -> None:
    page = live["page"]
    before = page.evaluate("[tf.memory().numTensors, window.gazesite.samples.length]")
    page.wait_for_timeout(3000)
    after = page.evaluate("[tf.memory().numTensors, window.gazesite.samples.length]")
    assert after[1] > before[1] + 10  # frames really were processed in between
    assert after[0] == before[0]


def test_downloads(live: dict[str, Any], tmp_path: Path) -> None:
    page = live["page"]
    with page.expect_download() as info:
        page.click("#download-json")
    data = json.loads(Path(info.value.path()).read_text())
    assert data["format"] == "gazesite-samples" and data["version"] == 2 and data["mode"] == "frame" and data["pages"] == []
    assert all(s["doc"] is None and s["page"] is None and len(s["raw"]) == 2 for s in data["samples"])
    assert data["target"] == live["target"].url("/study") and len(data["samples"]) >= 30
    with page.expect_download() as info:
        page.click("#download-csv")
    lines = Path(info.value.path()).read_text().splitlines()
    assert lines[0].startswith("t,x,y,viewport_width,viewport_height") and len(lines) >= 31
    with page.expect_download() as info:
        page.click("#download-png")
    assert Path(info.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_only_own_origin_and_target_are_contacted(live: dict[str, Any]) -> None:
    own = urlsplit(live["server"].url).netloc
    target = urlsplit(live["target"].origin).netloc
    contacted = {urlsplit(url).netloc for url in live["requests"] if urlsplit(url).scheme in ("http", "https")}
    assert contacted <= {own, target}, contacted
    assert target in contacted and "/study" in live["target"].requests


def test_no_console_errors(live: dict[str, Any]) -> None:
    live["problems"].assert_none()
