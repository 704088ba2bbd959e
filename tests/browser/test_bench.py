"""gazesite bench runs end to end and reports figures that make sense (a short run)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gazesite.bench.speed import BenchConfig, format_table, run_bench


def test_short_bench_run(tmp_path: Path, playwright_instance: Any) -> None:
    out = tmp_path / "bench.json"
    report = run_bench(BenchConfig(frames=4, rounds=1, live_seconds=3, backends=("wasm", "cpu"), live_rounds=1, json_out=out), playwright_instance)
    data = json.loads(out.read_text())
    for side in (data["python_ms"], data["browser_ms"]["wasm"], data["browser_ms"]["cpu"]):
        assert side["detection"] > 0 and side["inference"] > 0
        assert side["total"] >= side["detection"]
    assert data["python_over_browser"]["wasm"] > 0
    live = data["live"]["gazesite"]
    assert live["frames"] > 10 and live["fps"] > 3 and live["cpu_seconds_per_frame"] > 0
    files = data["first_load"]["files"]
    assert {"index.html", "app/main.js", "model/model.json", "vendor/opencv-4.12.0.js"} <= set(files)
    assert data["first_load"]["gzip"] < data["first_load"]["raw"]
    table = format_table(report)
    assert "python / browser" in table and "processed frames/s" in table


def test_short_accuracy_run(tmp_path: Path, playwright_instance: Any) -> None:
    from gazesite.bench.accuracy import AccuracyConfig, format_accuracy, run_accuracy

    out = tmp_path / "accuracy.json"
    config = AccuracyConfig(people=1, renderers=("cartoon", "raycast"), points=(5, 9), frames_per_dot=3, json_out=out)
    report = run_accuracy(config, playwright_instance)
    data = json.loads(out.read_text())
    assert data["frames_per_dot"] == 3 and set(data["renderers"]) == {"cartoon", "raycast"}
    for rows in data["renderers"].values():
        (person,) = rows
        for points in ("5", "9"):
            run = person["gazesite"][points]
            assert run["problem"] is None and run["held_out_frames"] >= 40
            # Fitted on this person's frames, the calibrated point beats the model alone.
            assert 0 < run["after"] < run["before"], run
            assert run["calibration_frames"] >= int(points) * 3 * 0.8
            assert run["method"] in {c["method"] for c in run["candidates"]}
    assert data["summary"]["raycast"]["9"]["after"]["median"] == round(data["renderers"]["raycast"][0]["gazesite"]["9"]["after"], 4)
    table = format_accuracy(report)
    assert "raycast" in table and "after median" in table
