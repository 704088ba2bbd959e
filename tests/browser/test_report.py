"""A report written by the real CLI opens in Chromium, from disk and served, and renders its images."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from ..helpers import gazesite as gazesite_cli
from ..helpers import report_sessions as rs
from ..helpers.pages import watch

IMAGES_IN_PAGE = """() => [...document.images].map(img => ({
  src: img.getAttribute('src'), cls: img.className, complete: img.complete,
  naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight,
}))"""


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A report of two participants on a snapshot page with an image, written by the real CLI."""
    work = tmp_path_factory.mktemp("report")
    site = work / "dist"
    (site / "snapshots").mkdir(parents=True)
    Image.new("RGB", (1280, 3000), (235, 240, 250)).save(site / "snapshots" / "1280.png")
    inputs = [
        rs.write(work / "a.json", rs.document(rs.SESSION_A, rs.a_then_b(), image="snapshots/1280.png")),
        rs.write(work / "b.json", rs.document(rs.SESSION_B, rs.a_then_b(300, 700), image="snapshots/1280.png", seed=9)),
    ]
    (work / "aoi.json").write_text(json.dumps({"aois": [{"name": "A", "rect": rs.AOI_A}, {"name": "B", "rect": rs.AOI_B}]}))
    out = work / "report"
    result = gazesite_cli("report", *inputs, "--aoi", work / "aoi.json", "--pages", site, "--out", out)
    assert result.returncode == 0, result.stderr
    return out


def check_rendered(page: Any, report: Path) -> None:
    images = page.evaluate(IMAGES_IN_PAGE)
    manifest = json.loads((report / "report.json").read_text())
    heatmaps = [image for image in images if image["cls"] == "heatmap"]
    assert [image["src"] for image in heatmaps] == [entry["heatmap"] for entry in manifest["pages"]]
    for image in images:  # every picture decoded: heatmaps and gaze plots
        assert image["complete"] and image["naturalWidth"] > 0, image
    assert heatmaps[0]["naturalWidth"] == manifest["pages"][0]["png_width"]
    # One heatmap with its colour legend, two gaze plots.
    assert sorted((image["cls"], image["src"]) for image in images)[:2] == [
        ("", "heatmaps/legend.png"),
        ("gazeplot", "gazeplots/page-1-P1.png"),
    ]
    assert [image["cls"] for image in images].count("gazeplot") == 2 and len(images) == 4, images
    assert page.locator("#aois td").first.inner_text() == "A"


def test_report_opens_from_disk(launch_chromium: Any, report_dir: Path) -> None:
    browser = launch_chromium()
    page = browser.new_page()
    problems = watch(page)  # a CSP violation would show as a console error
    page.goto((report_dir / "index.html").as_uri())
    page.wait_for_load_state("load")
    check_rendered(page, report_dir)
    problems.assert_none()
    page.close()


def test_report_served(launch_chromium: Any, serve_site: Any, report_dir: Path) -> None:
    server = serve_site(report_dir)
    browser = launch_chromium()
    page = browser.new_page()
    problems = watch(page)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(server.url)
    page.wait_for_load_state("load")
    check_rendered(page, report_dir)
    problems.assert_none()
    assert all(url.startswith(server.url) for url in requests), requests  # nothing but its own files
    page.close()
