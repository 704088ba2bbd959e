"""The page's screen -> viewport mapping (assets/app/track/coords.js), run in Chromium."""

from __future__ import annotations

from typing import Any

import pytest

from ..helpers.pages import open_ready

MAP = """async ([point, metrics]) => {
  const { screenToViewport } = await import('./app/track/coords.js');
  return screenToViewport(point, metrics);
}"""

# A 1280x800 screen; a window at (100, 50) whose chrome adds 10 px on the
# sides and bottom and 90 px on top (tabs and address bar).
METRICS = {
    "screenLeft": 0,
    "screenTop": 0,
    "screenWidth": 1280,
    "screenHeight": 800,
    "windowX": 100,
    "windowY": 50,
    "outerWidth": 1020,
    "outerHeight": 700,
    "innerWidth": 1000,
    "innerHeight": 600,
}


@pytest.fixture(scope="module")
def page(chromium: Any, build_site: Any, serve_site: Any, target_server: Any) -> Any:
    page, _ = open_ready(chromium, serve_site(build_site(target_server.url())).url)
    return page


@pytest.mark.parametrize(
    ("point", "expected"),
    [
        ([0.5, 0.5], {"x": 640 - 110, "y": 400 - 140}),  # viewport origin on screen: (110, 140)
        ([110 / 1280, 140 / 800], {"x": 0, "y": 0}),
        ([0.0, 0.0], {"x": 0, "y": 0}),  # left of and above the window: clamped
        ([1.0, 1.0], {"x": 999, "y": 599}),  # beyond the window: clamped to the last pixel
    ],
)
def test_screen_point_maps_into_the_viewport(page: Any, point: list[float], expected: dict[str, float]) -> None:
    result = page.evaluate(MAP, [point, METRICS])
    assert result == pytest.approx(expected)


def test_fullscreen_window_maps_screen_to_viewport_directly(page: Any) -> None:
    metrics = {**METRICS, "windowX": 0, "windowY": 0, "outerWidth": 1280, "outerHeight": 800, "innerWidth": 1280, "innerHeight": 800}
    assert page.evaluate(MAP, [[0.25, 0.75], metrics]) == pytest.approx({"x": 320, "y": 600})
