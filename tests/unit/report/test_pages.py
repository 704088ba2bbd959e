"""The pages a report draws on: facts from the build's record, never from what a session claims."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from gazesite.commands import cli
from gazesite.report.pages import collect_pages, drop_pageless
from gazesite.report.read import read_inputs
from tests.helpers import report_sessions as rs


def write_build(dist: Path, pages: list[dict[str, Any]], colours: dict[str, tuple[int, int, int]]) -> Path:
    """A built site's folder as the report reads it: build.json's study.pages and one image per record."""
    dist.mkdir(exist_ok=True)
    for page in pages:
        image = np.zeros((int(page["height"]), int(page["width"]), 3), np.uint8)
        image[:] = colours[page["image"]]
        (dist / page["image"]).parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(dist / page["image"]), image)
    (dist / "build.json").write_text(json.dumps({"study": {"mode": "snapshot", "pages": pages}}))
    return dist


def record(width: int, height: int, image: str, page: str = rs.PAGE) -> dict[str, Any]:
    return {"id": page, "width": width, "height": height, "image": image}


def sessions_of(tmp_path: Path, *documents: dict[str, Any]) -> list[Any]:
    paths = [rs.write(tmp_path / f"s{index}.json", doc) for index, doc in enumerate(documents)]
    return read_inputs(paths)[0]


def test_the_build_record_wins_over_what_a_session_declares(tmp_path: Path) -> None:
    dist = write_build(tmp_path / "dist", [record(1280, 3000, "snapshot/1280/page.webp")], {"snapshot/1280/page.webp": (0, 0, 200)})
    (dist / "decoy.png").write_bytes(cv2.imencode(".png", np.zeros((5, 5, 3), np.uint8))[1].tobytes())
    liar = rs.document(rs.SESSION_A, rs.a_then_b(), image="decoy.png")
    liar["pages"][0].update(width=99_000, height=99_000)
    honest = rs.document(rs.SESSION_B, rs.a_then_b(), seed=1)
    [page], _ = collect_pages(sessions_of(tmp_path, liar, honest), dist)
    assert (page.width, page.height) == (1280, 3000)
    assert page.image == (dist / "snapshot/1280/page.webp").resolve()


def test_a_declared_image_is_not_drawn_when_the_build_records_its_pages(tmp_path: Path) -> None:
    dist = write_build(
        tmp_path / "dist", [record(1280, 3000, "pages/1280/page-001.webp", page="/other.html")], {"pages/1280/page-001.webp": (9, 9, 9)}
    )
    (dist / "decoy.png").write_bytes(cv2.imencode(".png", np.zeros((5, 5, 3), np.uint8))[1].tobytes())
    [page], _ = collect_pages(sessions_of(tmp_path, rs.document(rs.SESSION_A, rs.a_then_b(), image="decoy.png")), dist)
    assert page.image is None and (page.width, page.height) == (1280, 3000)


def test_without_a_record_the_commonest_declared_size_wins(tmp_path: Path) -> None:
    liar = rs.document(rs.SESSION_A, rs.a_then_b())
    liar["pages"][0].update(width=90_000, height=90_000)
    honest = [rs.document(session, rs.a_then_b(), seed=n) for n, session in enumerate((rs.SESSION_B, rs.SESSION_C), start=1)]
    [page], _ = collect_pages(sessions_of(tmp_path, liar, *honest), None)
    assert (page.width, page.height) == (1280, 3000)


@pytest.mark.parametrize(("seen", "chosen"), [(800, 768), (1100, 1280), (1500, 1280), (1700, 1920), (None, 768)])
def test_the_capture_nearest_the_width_participants_saw_is_drawn(tmp_path: Path, seen: int | None, chosen: int) -> None:
    widths = (768, 1280, 1920)
    images = {f"pages/{w}/page-001.webp": (w % 256, 0, 0) for w in widths}
    dist = write_build(tmp_path / "dist", [record(w, 2000, f"pages/{w}/page-001.webp", page="/index.html") for w in widths], images)
    doc = rs.document(rs.SESSION_A, rs.a_then_b(), page="/index.html")
    doc["mode"] = "same-origin"
    doc["pages"] = [] if seen is None else [{"id": "/index.html", "width": seen, "height": 2500, "image": None}]
    if seen is None:  # nothing declared: the viewport width the samples carry (1280) decides, so use a narrow one
        for sample in doc["samples"]:
            sample["viewport"] = [700, 800]
    [page], _ = collect_pages(sessions_of(tmp_path, doc), dist)
    assert page.width == chosen and page.image == (dist / f"pages/{chosen}/page-001.webp").resolve()


def test_a_query_or_a_folder_url_finds_the_page_the_build_captured(tmp_path: Path) -> None:
    images = {"pages/1280/page-001.webp": (1, 2, 3), "pages/1280/page-002.webp": (4, 5, 6)}
    dist = write_build(
        tmp_path / "dist",
        [
            record(1280, 900, "pages/1280/page-001.webp", page="/index.html"),
            record(1280, 700, "pages/1280/page-002.webp", page="/docs/index.html"),
        ],
        images,
    )
    docs = []
    for number, page in enumerate(("/index.html?q=" + "x" * 100, "/docs/")):
        doc = rs.document([rs.SESSION_A, rs.SESSION_B][number], rs.a_then_b(), page=page, seed=number)
        doc.update(mode="same-origin", pages=[])
        docs.append(doc)
    pages, _ = collect_pages(sessions_of(tmp_path, *docs), dist)
    assert [(p.id, p.height, p.image.name if p.image else None) for p in pages] == [
        ("/index.html?q=" + "x" * 100, 900, "page-001.webp"),
        ("/docs/", 700, "page-002.webp"),
    ]


@pytest.mark.parametrize(
    ("pages", "fragment"),
    [
        ([{"id": "", "width": 10, "height": 10, "image": None}], "study.pages[0]"),
        ([{"id": "/a", "width": -1, "height": 10, "image": None}], "study.pages[0]"),
        (["not a page"], "study.pages[0]"),
        ([{"id": "/a", "width": True, "height": 10, "image": None}], "study.pages[0]"),
    ],
)
def test_a_damaged_build_record_is_one_line(tmp_path: Path, pages: list[Any], fragment: str) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "build.json").write_text(json.dumps({"study": {"pages": pages}}))
    sample = rs.write(tmp_path / "a.json", rs.document(rs.SESSION_A, rs.a_then_b()))
    result = CliRunner().invoke(cli, ["report", str(sample), "--pages", str(dist), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and fragment in lines[0] and "build.json" in lines[0], result.stderr
    assert not (tmp_path / "out").exists()


def test_samples_on_no_page_leave_a_document_session_but_not_a_framed_one(tmp_path: Path) -> None:
    doc = rs.document(rs.SESSION_A, rs.a_then_b(), page="/index.html")
    doc["mode"] = "same-origin"
    for sample in doc["samples"][10:12]:  # the frame between two pages: no page, no document point
        sample.update(page=None, doc=None, element=None)
    framed = rs.document(rs.SESSION_B, rs.a_then_b(), seed=1)
    framed["mode"] = "frame"
    for sample in framed["samples"]:
        sample.update(page=None, doc=None)
    document_session, frame_session = sessions_of(tmp_path, doc, framed)
    kept = drop_pageless(document_session)
    assert len(kept.samples) == len(document_session.samples) - 2 and "viewport" not in set(kept.samples.page)
    assert drop_pageless(frame_session) is frame_session


def test_a_symbolic_link_loop_under_pages_is_one_line(tmp_path: Path) -> None:
    """In the build's own record: the researcher's build folder is broken (a claimed image is drawn blank instead)."""
    dist = tmp_path / "dist"
    (dist / "snapshot/1280").mkdir(parents=True)
    (dist / "snapshot/1280/page.webp").symlink_to("page.webp")
    (dist / "build.json").write_text(json.dumps({"study": {"pages": [record(1280, 3000, "snapshot/1280/page.webp")]}}))
    sample = rs.write(tmp_path / "a.json", rs.document(rs.SESSION_A, rs.a_then_b(), image="snapshot/1280/page.webp"))
    result = CliRunner().invoke(cli, ["report", str(sample), "--pages", str(dist), "--out", str(tmp_path / "out")])
    assert isinstance(result.exception, SystemExit) and result.exit_code == 1, repr(result.exception)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "symbolic link" in lines[0] and "snapshot/1280/page.webp" in lines[0], result.stderr
    assert not (tmp_path / "out").exists()


def test_a_looping_pages_folder_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "dist").symlink_to("dist")
    sample = rs.write(tmp_path / "a.json", rs.document(rs.SESSION_A, rs.a_then_b()))
    result = CliRunner().invoke(cli, ["report", str(sample), "--pages", str(tmp_path / "dist"), "--out", str(tmp_path / "out")])
    assert isinstance(result.exception, SystemExit) and result.exit_code == 1, repr(result.exception)
    assert "--pages" in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
