"""Local study targets are untrusted: site folders and images are bounded, never followed out, refused in one line."""

from __future__ import annotations

import json
import os
import struct
import tracemalloc
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from gazesite.bounded import InputError
from gazesite.errors import GazesiteError
from gazesite.samples.schema import MAX_SNAPSHOT_HEIGHT
from gazesite.study import images, local_site
from gazesite.study.images import image_size, read_image
from gazesite.study.local_site import gather_site, site_problem
from tests.helpers import assert_one_line_error, folder_digest, gazesite, run_build


def make_site(folder: Path) -> Path:
    folder.mkdir()
    (folder / "index.html").write_text("<h1>home</h1>")
    (folder / "css").mkdir()
    (folder / "css" / "site.css").write_text("h1 { color: red }")
    return folder


# ---------------------------------------------------------------- site folders


def test_a_site_is_gathered_without_hidden_files(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    (site / ".env").write_text("SECRET=1")
    (site / ".git").mkdir()
    (site / ".git" / "config").write_text("[core]")
    (site / "alias.css").symlink_to(site / "css" / "site.css")  # a link to a file inside is published as that file
    assert gather_site(site) == {
        "site/alias.css": (site / "css" / "site.css").resolve(),
        "site/css/site.css": (site / "css" / "site.css").resolve(),
        "site/index.html": site / "index.html",
    }


@pytest.mark.parametrize("case", ["link-out", "link-to-folder", "broken-link", "fifo", "bad-name", "self-loop", "two-link-loop"])
def test_unsafe_site_entries_are_refused(tmp_path: Path, case: str) -> None:
    site = make_site(tmp_path / "site")
    secret = tmp_path / "secret.txt"
    secret.write_text("private")
    if case == "link-out":
        (site / "leak.txt").symlink_to(secret)
    elif case == "link-to-folder":
        (site / "loop").symlink_to(site)
    elif case == "broken-link":
        (site / "gone.txt").symlink_to(site / "missing.txt")
    elif case == "fifo":
        os.mkfifo(site / "pipe")
    elif case == "self-loop":
        (site / "loop.css").symlink_to("loop.css")
    elif case == "two-link-loop":
        (site / "css" / "a.css").symlink_to("b.css")
        (site / "css" / "b.css").symlink_to("a.css")
    else:
        (site / "a page.html").write_text("x")
    with pytest.raises(GazesiteError) as info:
        gather_site(site)
    assert str(site) in info.value.message and "\n" not in info.value.message


def test_site_bounds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = make_site(tmp_path / "site")
    monkeypatch.setattr(local_site, "MAX_SITE_FILES", 1)
    with pytest.raises(GazesiteError, match="more than 1 files"):
        gather_site(site)
    monkeypatch.setattr(local_site, "MAX_SITE_FILES", 100)
    monkeypatch.setattr(local_site, "MAX_SITE_BYTES", 20)
    with pytest.raises(GazesiteError, match="holds more than 20 bytes"):
        gather_site(site)
    monkeypatch.setattr(local_site, "MAX_SITE_BYTES", 1000)
    monkeypatch.setattr(local_site, "MAX_SITE_DEPTH", 2)
    deep = site / "a" / "b" / "c" / "d"
    deep.mkdir(parents=True)
    with pytest.raises(GazesiteError, match="nested deeper than 2"):
        gather_site(site)


def test_a_looping_target_folder_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "site").symlink_to("site")
    result = gazesite("build", "--no-probe", "--target", tmp_path / "site", "--out", tmp_path / "dist")
    assert_one_line_error(result, f"--target {tmp_path / 'site'}: is a symbolic link loop")
    assert not (tmp_path / "dist").exists()


def refusal(folder: Path, out: Path) -> str:
    """Why ``site_problem`` refuses ``folder`` (failing the test if it accepts it)."""
    problem = site_problem(folder, out)
    assert problem is not None, f"{folder} next to --out {out} was accepted"
    return problem


def test_site_and_output_must_not_contain_each_other(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    assert "inside the site folder" in refusal(site, site / "dist")
    assert "inside --out" in refusal(site, tmp_path)
    (site / "index.html").unlink()
    assert "has no index.html" in refusal(site, tmp_path / "dist")


# ---------------------------------------------------------------- images


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares width x height and holds almost nothing: a decompression bomb's head."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk))


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp"])
def test_image_headers_are_read_without_decoding(tmp_path: Path, suffix: str) -> None:
    pixels = np.zeros((345, 678, 3), np.uint8)
    ok, data = cv2.imencode(suffix, pixels)
    assert ok
    assert image_size(data.tobytes())[1:] == (678, 345)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (png_header(50_000, 50_000), "expected 320 to 3840 px"),
        (png_header(3000, 30_000), "expected at most"),
        (png_header(1280, 800), "cannot be decoded"),
        (b"\x89PNG\r\n\x1a\n", "truncated PNG"),
        (b"GIF89a" + b"\0" * 20, "not a PNG, JPEG or WebP"),
        (b"\xff\xd8\xff\xe0\x00\x01", "damaged JPEG"),
        (b"RIFF\0\0\0\0WEBPVP8 ", "truncated or unknown WebP"),
    ],
)
def test_hostile_images_are_refused(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "mock.png"
    path.write_bytes(content)
    with pytest.raises(InputError, match=problem):
        read_image(path)


def test_a_tall_image_is_cropped_to_the_limit_and_transparency_lies_on_white(tmp_path: Path) -> None:
    pixels = np.zeros((MAX_SNAPSHOT_HEIGHT + 500, 320, 4), np.uint8)  # fully transparent
    cv2.imwrite(str(tmp_path / "tall.png"), pixels)
    picture = read_image(tmp_path / "tall.png")
    assert picture.height == MAX_SNAPSHOT_HEIGHT and picture.full_height == MAX_SNAPSHOT_HEIGHT + 500 and picture.cropped
    assert (picture.pixels == 255).all()
    tiles = images.tiles(picture)
    assert [top for top, _ in tiles] == list(range(0, MAX_SNAPSHOT_HEIGHT, images.TILE_HEIGHT))


# ---------------------------------------------------------------- builds


@pytest.fixture(scope="module")
def cache_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return {**os.environ, "XDG_CACHE_HOME": str(tmp_path_factory.mktemp("cache"))}


@pytest.mark.slow  # two builds in fresh processes
def test_image_builds_are_deterministic_and_atomic(tmp_path: Path, cache_env: dict[str, str]) -> None:
    mock = np.full((5000, 1000, 3), 240, np.uint8)
    cv2.putText(mock, "design", (50, 300), cv2.FONT_HERSHEY_SIMPLEX, 4, (20, 20, 20), 8)
    cv2.imwrite(str(tmp_path / "mock.jpg"), mock)
    first, second = tmp_path / "one", tmp_path / "two"
    for out in (first, second):
        result = run_build(cache_env, out, "--target", str(tmp_path / "mock.jpg"))
        assert result.returncode == 0, result.stderr
    assert folder_digest(first) == folder_digest(second)
    manifest = json.loads((first / "build.json").read_text())
    assert manifest["target"] == "mock.jpg" and str(tmp_path) not in (first / "index.html").read_text()
    assert [(s["width"], s["height"], s["tiles"]) for s in manifest["study"]["snapshots"]] == [(1000, 5000, 3)]
    assert manifest["files"]["snapshot/1000/tile-02.webp"]["bytes"] > 0
    # A broken image leaves the previous build as it was.
    (tmp_path / "mock.jpg").write_bytes(b"\xff\xd8\xff" + b"\0" * 100)
    result = run_build(cache_env, first, "--target", str(tmp_path / "mock.jpg"))
    assert_one_line_error(result, "mock.jpg", "JPEG")
    assert folder_digest(first) == folder_digest(second)


def test_a_cropped_image_is_reported(tmp_path: Path, cache_env: dict[str, str]) -> None:
    cv2.imwrite(str(tmp_path / "long.png"), np.full((MAX_SNAPSHOT_HEIGHT + 100, 320, 3), 200, np.uint8))
    result = run_build(cache_env, tmp_path / "dist", "--target", str(tmp_path / "long.png"))
    assert result.returncode == 0, result.stderr
    assert f"keeps the top {MAX_SNAPSHOT_HEIGHT} px" in result.stderr
    study = json.loads((tmp_path / "dist" / "build.json").read_text())["study"]
    assert study["snapshots"][0]["cropped"] and study["snapshots"][0]["full_height"] == MAX_SNAPSHOT_HEIGHT + 100
    assert "cut off" in study["warnings"][0]


def test_a_site_build_publishes_the_folder_under_site(tmp_path: Path, cache_env: dict[str, str]) -> None:
    site = make_site(tmp_path / "mysite")
    (site / ".env").write_text("SECRET=1")
    result = run_build(cache_env, tmp_path / "dist", "--target", str(site), "--no-page-images")
    assert result.returncode == 0, result.stderr
    dist = tmp_path / "dist"
    assert (dist / "site/css/site.css").read_text() == "h1 { color: red }" and not (dist / "site/.env").exists()
    assert json.loads((dist / "build.json").read_text())["study"]["pages"] == [] and not (dist / "pages").exists()
    page = (dist / "index.html").read_text()
    assert 'src="site/index.html"' in page and "frame-src &#39;self&#39;" in page and str(tmp_path) not in page


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--target", "https://example.org/", "--widths", "1280"], "give --snapshot as well"),
        (["--target", "https://example.org/", "--snapshot", "--widths", "100"], "100 px is outside 320 to 3840"),
        (["--target", "https://example.org/", "--snapshot", "--widths", "1280,wide"], "expected widths in px"),
        (["--target", "https://example.org/", "--snapshot", "--widths", "1280,1280"], "names a width twice"),
        (["--target", "https://example.org/", "--study", "a b"], "--study 'a b'"),
        (["--target", "https://example.org/", "--study", "pilot.1"], "--study 'pilot.1'"),
        (["--target", "{site}", "--snapshot"], "leave it out"),
        (["--target", "http://127.0.0.1:9/", "--snapshot"], "127.0.0.1:9 is 127.0.0.1, a private, loopback or link-local address"),
        (["--target", "http://169.254.169.254/", "--snapshot"], "169.254.169.254:80 is 169.254.169.254, a private"),
        (["--target", "https://example.org/", "--no-page-images"], "only a site folder's pages are captured"),
        (["--target", "{site}/missing.png"], "no such image file"),
        (["--target", "{site}/index.html"], "PNG/JPEG/WebP"),
        (["--target", "{site}/css"], "has no index.html"),
        (["--target", "no-such-folder"], "absolute http:// or https:// URL (or an existing site folder"),
    ],
)
def test_bad_study_options_are_one_line_errors(tmp_path: Path, args: list[str], problem: str) -> None:
    site = make_site(tmp_path / "site")
    args = [a.replace("{site}", str(site)) for a in args]
    result = gazesite("build", "--no-probe", *args, "--out", tmp_path / "dist")
    assert_one_line_error(result, problem)
    assert not (tmp_path / "dist").exists()


def test_a_16_bit_image_target_is_converted_without_whole_image_copies(tmp_path: Path) -> None:
    """A 16-bit RGBA PNG decodes to 8 bytes a pixel; converting it must not add whole-image temporaries on top."""
    rows, width = 2000, 3840
    pixels = np.zeros((rows, width, 4), np.uint16)
    pixels[:, :, 3] = 65535
    pixels[::7, :, 2] = 40000  # red rows, opaque
    pixels[1::7, :, 3] = 0  # transparent rows: white, as a browser shows them
    assert cv2.imwrite(str(tmp_path / "deep.png"), pixels)
    decoded = rows * width * 8
    tracemalloc.start()
    try:
        picture = read_image(tmp_path / "deep.png")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # The decoded image and the 8-bit result are needed; whole-image temporaries took the peak to 3.5x the decoded size.
    assert peak < 2 * decoded, f"peak {peak / 1e6:.0f} MB for {decoded / 1e6:.0f} MB decoded"
    assert picture.pixels.shape == (rows, width, 3) and picture.pixels.dtype == np.uint8
    assert picture.pixels[0, 0].tolist() == [0, 0, 156] and picture.pixels[1, 0].tolist() == [255, 255, 255]
    assert picture.pixels[2, 0].tolist() == [0, 0, 0]
