"""Both OpenCV.js builds in a real site: the lean default and npm's full build give Python's boxes, crops and eye bands.

The full parity suite (test_parity.py, test_live.py) runs on the default, lean,
build; here the full build is held to the same frames, and a lean build that
fails to start must end in a visible status.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pytest

from gazesite.chromium import wait_state
from gazesite.site.opencv_js import read_manifest
from gazesite.track.pipeline import process_frame

from ..helpers.frames import parity_frames
from ..helpers.pages import open_ready, process_in_page, watch

#: Frames that cover one face, two faces (the largest wins), a big photo and no face.
FRAMES = ("astronaut", "astronaut-camera-1", "synthetic-1", "synthetic-3", "two-astronauts", "two-synthetic", "noise")


@pytest.fixture(scope="module")
def sites(build_site: Any, serve_site: Any, target_server: Any) -> dict[str, dict[str, Any]]:
    out = {}
    for name, options in (("lean", ()), ("full", ("--opencv", "full"))):
        dist = build_site(target_server.url(), *options)
        out[name] = {"dist": dist, "server": serve_site(dist)}
    return out


def test_build_json_records_the_opencv_build(sites: dict[str, dict[str, Any]]) -> None:
    lean_name = read_manifest()["artefact"]["file"]
    for name, site in sites.items():
        manifest = json.loads((site["dist"] / "build.json").read_text())
        opencv = manifest["opencv"]
        assert opencv["build"] == name
        vendored = sorted(p.name for p in (site["dist"] / "vendor").glob("opencv-*.js"))
        assert vendored == [lean_name if name == "lean" else "opencv-4.12.0.js"]
        assert opencv["file"] == f"vendor/{vendored[0]}" and opencv["file"] in manifest["files"]
        html = (site["dist"] / "index.html").read_text()
        assert re.search(rf'src="{re.escape(opencv["file"])}"\s+integrity="sha384-', html)


@pytest.mark.parametrize("build", ["lean", "full"])
def test_build_matches_python_frame_by_frame(build: str, sites: dict[str, dict[str, Any]], chromium: Any) -> None:
    frames = dict(parity_frames())
    page, problems = open_ready(chromium, sites[build]["server"].url + "?backend=wasm")
    for name in FRAMES:
        frame = frames[name]
        want = process_frame(frame)
        result = process_in_page(page, frame)
        assert result["face"] == (list(want.face) if want.face else None), name
        if want.face is None:
            assert result["crop"] is None, name
            continue
        assert want.crop is not None and want.eyes is not None  # cut with every face
        np.testing.assert_array_equal(np.array(result["crop"], np.uint8).reshape(want.crop.shape), want.crop, err_msg=name)
        np.testing.assert_array_equal(np.array(result["eyes"], np.uint8).reshape(want.eyes.shape), want.eyes, err_msg=name)
    problems.assert_none()


def test_lean_build_that_fails_to_start_shows_an_error(sites: dict[str, dict[str, Any]], chromium: Any) -> None:
    site = sites["lean"]
    url = site["server"].url
    opencv_file = json.loads((site["dist"] / "build.json").read_text())["opencv"]["file"]
    page = chromium.new_context().new_page()
    problems = watch(page)

    def without_integrity(route: Any) -> None:
        # The stand-in below is not the vendored file: drop its integrity pin, so the browser runs it.
        html = route.fetch().text()
        html = re.sub(rf'(src="{re.escape(opencv_file)}")\s+integrity="[^"]+"', r"\1", html)
        route.fulfill(body=html, content_type="text/html; charset=utf-8")

    page.route(url, without_integrity)
    # What a lean build whose WebAssembly fails to compile leaves behind: a Promise that rejects once
    # compilation fails, here once the loader waits on it (it calls then()), as compilation is asynchronous.
    page.route(
        url + opencv_file,
        lambda route: route.fulfill(
            content_type="text/javascript",
            body="""
        let fail;
        window.cv = new Promise((resolve, reject) => { fail = reject; });
        const then = window.cv.then.bind(window.cv);
        window.cv.then = (...handlers) => {
          setTimeout(() => fail(new Error('Aborted(CompileError: wasm validation error)')), 0);
          return then(...handlers);
        };
    """,
        ),
    )
    page.goto(url)
    wait_state(page, "error")
    status = page.locator("#status").inner_text()
    assert "OpenCV.js failed to start" in status and "wasm validation error" in status, status
    problems.assert_none()
