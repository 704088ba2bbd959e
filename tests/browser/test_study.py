"""Study mode in Chromium: snapshot of a page that refuses framing, an image target, a same-origin local site.

Each site is built by the real CLI and served by ``gazesite serve``; the fake
camera shows one still face, so the model's raw point stays put while the
test scrolls the content under it with the mouse wheel.
"""

from __future__ import annotations

import html
import http.server
import json
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pytest

from gazesite.bench.fakecam import write_y4m
from gazesite.chromium import camera_args, wait_state
from gazesite.data.faces import cartoon
from gazesite.samples.io import read_samples

from ..helpers import gazesite as gazesite_cli
from ..helpers.pages import DOCS_PICTURES, docs_picture, watch

#: How far the test scrolls, and how close the document point must follow (px).
WHEEL_PX = 1500
TOLERANCE_PX = 20
TALL_PAGE = (
    b"<!doctype html><html><head><title>Tall</title></head><body style='margin:0;font:20px sans-serif'>"
    + b"".join(
        b"<section style='height:400px;border-top:4px solid #%02x3060'><h2>Section %d</h2></section>" % (i * 25, i) for i in range(9)
    )
    # Lazy content: one more block appears once the page has been scrolled to its end (as infinite lists do).
    + b"<script>let added = false; addEventListener('scroll', () => { if (!added && scrollY + innerHeight >= document.body.scrollHeight - 10) {"
    + b" added = true; const more = document.createElement('div'); more.id = 'lazy'; more.style.height = '300px'; document.body.append(more); } });</script>"
    + b"</body></html>"
)
#: The page's height before its lazy block appears (9 sections of 400 px and a 4 px border) and the block's height.
EAGER_HEIGHT = 9 * 404
LAZY_HEIGHT = 300


class DenyingTarget:
    """A 3600 px tall page that sends X-Frame-Options: DENY, on its own origin; records every request."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requests.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("X-Frame-Options", "DENY")
                self.end_headers()
                self.wfile.write(TALL_PAGE)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/tall"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def denying_target() -> Iterator[DenyingTarget]:
    server = DenyingTarget()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


@pytest.fixture(scope="module")
def still_face(tmp_path_factory: pytest.TempPathFactory, launch_chromium: Any) -> Any:
    """Chromium whose fake camera shows one synthetic face, the same frame over and over."""
    rng = np.random.default_rng(5)
    frame = cartoon.render_face(cartoon.random_identity(rng), (0.5, 0.4), rng)
    video = write_y4m(tmp_path_factory.mktemp("camera") / "still.y4m", [frame] * 10)
    return launch_chromium(*camera_args(video))


def build(out: Path, target: str | Path, *options: str, env: dict[str, str]) -> str:
    """Build with the real CLI; return what it printed (stderr: the log)."""
    result = gazesite_cli("build", "--target", target, "--out", out, *options, env=env)
    assert result.returncode == 0, f"gazesite build failed:\n{result.stderr}"
    return result.stderr


def open_running(browser: Any, url: str) -> tuple[Any, list[str], Any]:
    """Open the page at 1280x800 and wait until it tracks the face and has logged samples."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    problems = watch(page)
    page.goto(url)
    wait_state(page, "running")
    page.wait_for_function("window.gazesite.samples.filter((s) => s.doc !== null).length >= 10", timeout=30_000)
    return page, requests, problems


def samples_after(page: Any, count: int) -> list[dict[str, Any]]:
    """Wait for ``count`` more samples and return them."""
    start = page.evaluate("window.gazesite.samples.length")
    page.wait_for_function(f"window.gazesite.samples.length >= {start + count}", timeout=30_000)
    return page.evaluate(f"window.gazesite.samples.slice({start})")


def painted_rows(page: Any) -> float:
    """The mean row of the heatmap canvas's painted pixels, weighted by opacity."""
    return page.evaluate(
        """() => {
      const canvas = document.querySelector('#heatmap canvas');
      const { data, width, height } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
      let sum = 0, weight = 0;
      for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) { const a = data[4 * (y * width + x) + 3]; sum += a * y; weight += a; }
      return weight > 0 ? sum / weight : NaN;
    }"""
    )


def median(samples: list[dict[str, Any]], key: str, axis: int) -> float:
    return statistics.median(s[key][axis] for s in samples if s[key] is not None)


def wheel_and_settle(page: Any, scrolled: str, pixels: int) -> None:
    """Scroll with the mouse wheel over the content and wait until ``scrolled`` (a JS expression) stops changing."""
    page.mouse.move(500, 300)
    page.mouse.wheel(0, pixels)
    page.wait_for_function(f"({scrolled}) >= {pixels - 1}", timeout=10_000)
    last, deadline = None, time.monotonic() + 5
    while time.monotonic() < deadline:
        now = page.evaluate(scrolled)
        if now == last:
            return
        last = now
        page.wait_for_timeout(200)


def assert_scroll_moves_doc_not_raw(page: Any, scrolled: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Samples before and after a wheel scroll of WHEEL_PX: doc y follows the content, raw y stays put."""
    before = samples_after(page, 10)
    wheel_and_settle(page, scrolled, WHEEL_PX)
    samples_after(page, 3)  # the smoothing window's frames from before the scroll
    after = samples_after(page, 10)
    assert abs(median(after, "doc", 1) - median(before, "doc", 1) - WHEEL_PX) <= TOLERANCE_PX, (before[-1], after[-1])
    assert abs(median(after, "raw", 1) - median(before, "raw", 1)) <= 3, (before[-1], after[-1])
    assert abs(median(after, "scroll", 1) - median(before, "scroll", 1) - WHEEL_PX) <= 1
    return before, after


# ---------------------------------------------------------------- snapshot of a page that refuses framing


@pytest.fixture(scope="module")
def snapshot_site(tmp_path_factory: pytest.TempPathFactory, cli_env: dict[str, str], denying_target: DenyingTarget) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("snapshot") / "dist"
    earlier = len(denying_target.requests)
    log = build(out, denying_target.url, "--snapshot", "--allow-private", "--widths", "1280,1920", "--study", "pilot-1", env=cli_env)
    return {"out": out, "log": log, "requests_at_build": denying_target.requests[earlier:]}


def test_frame_build_of_a_refusing_target_points_to_snapshot(
    tmp_path: Path, cli_env: dict[str, str], denying_target: DenyingTarget
) -> None:
    log = build(tmp_path / "dist", denying_target.url, env=cli_env)
    assert "refuses to be framed" in log and "--snapshot" in log


def test_snapshot_build_reports_and_records_the_capture(snapshot_site: dict[str, Any]) -> None:
    out, log = snapshot_site["out"], snapshot_site["log"]
    manifest = json.loads((out / "build.json").read_text())
    study = manifest["study"]
    assert study["mode"] == "snapshot" and study["study"] == "pilot-1" and study["warnings"] == []
    assert [s["width"] for s in study["snapshots"]] == [1280, 1920]
    for shot in study["snapshots"]:
        assert shot["height"] == shot["full_height"] == EAGER_HEIGHT + LAZY_HEIGHT and not shot["cropped"]  # scrolled through
        assert f"snapshot-{shot['width']}: {shot['width']}x{shot['height']} px" in log  # widths, heights, bytes in the output
        assert (out / f"snapshot/{shot['width']}/page.webp").is_file()
    assert " MB in tiles" in log
    csp = html.unescape((out / "index.html").read_text().split('http-equiv="Content-Security-Policy" content="')[1].split('"')[0])
    assert "frame-src 'none'" in csp and "127.0.0.1" not in csp
    assert [r for r in snapshot_site["requests_at_build"] if r != "/favicon.ico"] == [
        "/tall",
        "/tall",
    ]  # a load per width, no probe


def test_snapshot_scroll_moves_doc_not_raw(
    still_face: Any, snapshot_site: dict[str, Any], serve_site: Any, denying_target: DenyingTarget, tmp_path: Path
) -> None:
    server = serve_site(snapshot_site["out"])
    seen_by_target = len(denying_target.requests)
    page, requests, problems = open_running(still_face, server.url)
    assert page.evaluate("window.gazesite.mode") == "snapshot"
    assert page.locator("#mode").inner_text() == "snapshot 1280 px"
    assert page.locator("#status").get_attribute("data-state") == "running"  # not frame-refused: nothing is framed
    before, after = assert_scroll_moves_doc_not_raw(page, "document.querySelector('#snapshot').scrollTop")
    assert {s["page"] for s in before + after} == {"snapshot-1280"} and all(s["element"] is None for s in after)
    page.click("#toggle-debug")
    assert page.locator("#debug-values dd").first.inner_text() == "snapshot 1280 px"  # the debug panel's Mode

    # The heatmap lives in document space: with tracking stopped, scrolling moves the drawn points with the content.
    page.evaluate("window.gazesite.stop()")
    raw_y = median(after, "raw", 1)
    shift = 300 if raw_y < 400 else -300  # keep the blob in view
    painted_before = painted_rows(page)
    page.mouse.move(500, 300)  # over the content, not the panel
    page.mouse.wheel(0, -shift)
    page.wait_for_function(f"Math.abs(document.querySelector('#snapshot').scrollTop - {WHEEL_PX - shift}) < 1", timeout=10_000)
    page.wait_for_timeout(300)
    assert abs(painted_rows(page) - painted_before - shift) <= 10
    page.evaluate("window.gazesite.start()")

    # Exports: samples version 2, in JSON and CSV, read back by the Python reader.
    with page.expect_download() as info:
        page.click("#download-json")
    exported = read_samples(Path(info.value.path()))
    raw_json = json.loads(Path(info.value.path()).read_text())
    assert raw_json["version"] == 2 and raw_json["mode"] == "snapshot" and raw_json["study"] == "pilot-1"
    height = json.loads((snapshot_site["out"] / "build.json").read_text())["study"]["snapshots"][0]["height"]
    assert raw_json["pages"] == [{"id": "snapshot-1280", "width": 1280, "height": height, "image": "snapshot/1280/page.webp"}]
    assert len(raw_json["session"]) >= 16 and raw_json["screen"][0] > 0
    with page.expect_download() as info:
        page.click("#download-csv")
    from_csv = read_samples(Path(info.value.path()))
    assert len(from_csv["samples"]) >= len(exported["samples"]) > 20
    common = len(exported["samples"])
    for key in ("raw", "doc", "page", "scroll"):
        assert [s[key] for s in from_csv["samples"][:common]] == [s[key] for s in exported["samples"]], key

    # The snapshot that fits the window: the wider one in a wider window; a narrower window scales the narrowest down.
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.wait_for_function("document.querySelector('#mode').textContent === 'snapshot 1920 px'", timeout=10_000)
    page.set_viewport_size({"width": 1000, "height": 800})
    page.wait_for_function("document.querySelector('#mode').textContent === 'snapshot 1280 px at 78%'", timeout=10_000)
    samples_after(page, 3)
    scaled = [s for s in samples_after(page, 5) if s["doc"] is not None]
    assert scaled and all(abs(s["doc"][0] - s["x"] * 1280 / 1000) < 0.5 for s in scaled), scaled[-1]

    # At run time the page talked to its own origin only: the target heard nothing from it.
    own = urlsplit(server.url).netloc
    assert {urlsplit(url).netloc for url in requests if url.startswith("http")} == {own}
    assert len(denying_target.requests) == seen_by_target
    problems.assert_none()


# ---------------------------------------------------------------- an image target


def test_image_target_builds_and_runs_the_same_way(tmp_path: Path, cli_env: dict[str, str], still_face: Any, serve_site: Any) -> None:
    import cv2

    mock = np.full((5000, 1280, 3), 250, np.uint8)
    for y in range(0, 5000, 200):
        cv2.rectangle(mock, (40, y + 20), (1240, y + 180), (60, 40 + y % 200, 200), -1)
    cv2.imwrite(str(tmp_path / "mock.png"), mock)
    out = tmp_path / "dist"
    log = build(out, tmp_path / "mock.png", env=cli_env)
    assert "snapshot-1280: 1280x5000 px, 3 tiles" in log
    # A tile that cannot be loaded is a visible problem, not a silent blank.
    (out / "snapshot/1280/tile-02.webp").unlink()
    page, _, problems = open_running(still_face, serve_site(out).url)
    assert page.locator("#mode").inner_text() == "snapshot 1280 px"
    assert page.evaluate("document.querySelector('#snapshot img').naturalWidth") == 1280  # the first tile decoded
    assert_scroll_moves_doc_not_raw(page, "document.querySelector('#snapshot').scrollTop")
    page.mouse.wheel(0, 3000)
    page.wait_for_function("document.querySelector('#mode').dataset.problem === 'true'", timeout=10_000)
    assert "tile-02.webp" in page.locator("#mode").inner_text() and "could not be loaded" in page.locator("#mode").inner_text()
    assert [e for e in problems.errors if "404" not in e] == []  # the missing tile's 404 only


# ---------------------------------------------------------------- same-origin local site


def write_local_site(folder: Path) -> Path:
    """Two pages: a tall home page with a link to a second page."""
    folder.mkdir()
    sections = "".join(f"<section id='part-{chr(97 + i)}' style='height:500px'><p>Part {i}</p></section>" for i in range(8))
    (folder / "index.html").write_text(
        "<!doctype html><html><head><title>Home</title></head><body style='margin:0;font:20px sans-serif'>"
        f"<main style='min-height:4000px'>{sections}</main><a id='about' href='about.html'>About</a></body></html>"
    )
    (folder / "about.html").write_text(
        "<!doctype html><html><head><title>About</title></head><body style='margin:0'>"
        "<article style='height:3000px;background:#eef'><h1>About</h1></article></body></html>"
    )
    return folder


def test_same_origin_site_reads_scroll_location_and_element(
    tmp_path: Path, cli_env: dict[str, str], still_face: Any, serve_site: Any
) -> None:
    site = write_local_site(tmp_path / "mysite")
    out = tmp_path / "dist"
    build(out, site, "--study", "own-site", "--widths", "1280", env=cli_env)
    assert (out / "site/index.html").is_file() and (out / "site/about.html").is_file()
    recorded = json.loads((out / "build.json").read_text())["study"]["pages"]
    assert [(p["id"], p["width"]) for p in recorded] == [("/index.html", 1280), ("/about.html", 1280)]
    assert recorded[0]["height"] >= 4000 and all((out / p["image"]).is_file() for p in recorded)
    page, requests, problems = open_running(still_face, serve_site(out).url)
    assert page.evaluate("window.gazesite.mode") == "same-origin"
    assert page.locator("#mode").inner_text() == "same-origin /index.html"
    scrolled = "document.querySelector('#target').contentWindow.scrollY"
    before, after = assert_scroll_moves_doc_not_raw(page, scrolled)
    home = before + after
    assert {s["page"] for s in home} == {"/index.html"}
    named = [s["element"] for s in home if s["element"]]
    assert len(named) >= 0.8 * len(home), home[-1]
    assert any(e.startswith("#part-") for e in named), named[-5:]

    page.frame_locator("#target").locator("#about").click()
    page.wait_for_function("window.gazesite.samples.slice(-5).every((s) => s.page === '/about.html')", timeout=30_000)
    assert page.locator("#mode").inner_text() == "same-origin /about.html"
    about = samples_after(page, 5)
    assert all(s["doc"] is not None and s["element"] for s in about), about[-1]
    with page.expect_download() as info:
        page.click("#download-json")
    exported = json.loads(Path(info.value.path()).read_text())
    assert exported["mode"] == "same-origin" and exported["study"] == "own-site"
    assert [p["id"] for p in exported["pages"]] == ["/index.html", "/about.html"] and all(p["image"] is None for p in exported["pages"])
    own = urlsplit(page.url).netloc
    assert {urlsplit(url).netloc for url in requests if url.startswith("http")} == {own}
    problems.assert_none()
    assert_report_draws_the_captured_pages(tmp_path, Path(info.value.path()), out, cli_env)
    if DOCS_PICTURES:  # the README's picture of a same-origin report
        shown = still_face.new_page(viewport={"width": 1200, "height": 1400})
        shown.goto((tmp_path / "report" / "index.html").as_uri())
        docs_picture(shown, "report-same-origin.png")
        shown.close()


def assert_report_draws_the_captured_pages(tmp_path: Path, samples: Path, dist: Path, env: dict[str, str]) -> None:
    """A same-origin report draws each visited page on the build's capture of it, not on a blank page."""
    report = tmp_path / "report"
    result = gazesite_cli("report", samples, "--pages", dist, "--out", report, env=env)
    assert result.returncode == 0, result.stderr
    pages = {p["id"]: p for p in json.loads((report / "report.json").read_text())["pages"]}
    assert set(pages) == {"/index.html", "/about.html"}
    assert all(p["background"] == "image" for p in pages.values()), pages
    import cv2

    about = cv2.imread(str(report / pages["/about.html"]["heatmap"]))
    assert about is not None
    # The about page is #eef from top to bottom: its bottom-left corner (far from the gaze) keeps that colour.
    assert np.abs(about[-5, 5].astype(int) - [255, 238, 238]).max() <= 3, about[-5, 5]
