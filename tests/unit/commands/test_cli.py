"""The command line, run as users run it: in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from gazesite.commands import cli
from gazesite.data.dataset import Dataset, save_dataset
from tests.helpers import assert_one_line_error, gazesite
from tests.helpers.paths import ROOT_DIR


def test_help_lists_the_commands() -> None:
    result = gazesite("--help")
    assert result.returncode == 0
    for command in ("train", "convert", "dataset"):
        assert command in result.stdout


def test_importing_the_commands_loads_nothing_heavy() -> None:
    """Every command imports TensorFlow, aiohttp, OpenCV or Playwright only when it runs, so --help answers at once."""
    code = (
        "import sys\nimport gazesite.commands\nprint(sorted(m for m in ('tensorflow', 'aiohttp', 'cv2', 'playwright') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_bench_is_a_group_of_measurements() -> None:
    result = gazesite("bench", "--help")
    assert result.returncode == 0
    for command in ("speed", "accuracy", "detectors"):
        assert command in result.stdout
    bare = gazesite("bench")  # no measurement named: the group's help, not a default run
    assert bare.returncode == 2 and "speed" in bare.stderr and "detectors" in bare.stderr and "Traceback" not in bare.stderr
    for retired in ("--accuracy", "--detectors"):
        result = gazesite("bench", retired)
        assert result.returncode == 2 and "No such option" in result.stderr and retired in result.stderr


def test_bench_accuracy_names_bad_dot_counts_before_starting_anything() -> None:
    assert_one_line_error(gazesite("bench", "accuracy", "--points", "5,x"), "--points '5,x'", "separated by commas")
    assert_one_line_error(gazesite("bench", "accuracy", "--points", "5,99"), "--points '5,99'", "each dot count must be")


def test_collect_holds_the_server_export_and_the_load_test() -> None:
    result = gazesite("collect", "--help")
    assert result.returncode == 0 and "export" in result.stdout and "loadtest" in result.stdout
    result = gazesite("collect", "loadtest", "--help")
    assert result.returncode == 0 and "--kill-at" in result.stdout and "--no-kill" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--participants", "0"), "--participants 0: expected 1 to 1000"),
        (("--seconds", "10", "--kill-at", "20"), "--kill-at: times within the run"),
        (("--no-kill", "--kill-at", "5"), "--no-kill and --kill-at contradict each other"),
        (("--db", "x.db"), "No such option '--db'"),  # the server's options stay with the server
    ],
)
def test_a_bad_load_test_is_a_usage_error_before_any_server_starts(args: tuple[str, ...], message: str) -> None:
    result = gazesite("collect", "loadtest", *args)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_missing_model(tmp_path: Path) -> None:
    result = gazesite("convert", tmp_path / "no-such-model", "--out", tmp_path / "out")
    assert_one_line_error(result, "no-such-model", "does not exist", "gazesite model directory")
    assert not (tmp_path / "out").exists()


@pytest.mark.slow  # starts TensorFlow in a fresh process
def test_corrupt_model(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.h5").write_bytes(b"this is not an HDF5 file")
    result = gazesite("convert", model, "--out", tmp_path / "out")
    assert_one_line_error(result, "model.h5", "could not be loaded", "expected a Keras model")
    assert not (tmp_path / "out").exists()


def test_unknown_quantization_names_the_choices(tiny_model_dir: Path, tmp_path: Path) -> None:
    result = gazesite("convert", tiny_model_dir, "--out", tmp_path / "out", "--quantize", "int4")
    assert_one_line_error(result, "--quantize 'int4'", "none, float16, uint16, uint8")
    assert not (tmp_path / "out").exists()


def test_bad_dataset(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "gazesite-dataset", "version": 1, "crop_size": 50, "count": 2, "crops": "AAAA"}')
    result = gazesite("train", "--data", bad, "--out", tmp_path / "model")
    assert_one_line_error(result, str(bad), '"crops" holds 3 bytes')
    assert not (tmp_path / "model").exists()


def test_empty_dataset(tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"format": "gazesite-dataset", "version": 1, "crop_size": 50, "count": 0, "crops": "", "targets": []}))
    result = gazesite("train", "--data", empty, "--out", tmp_path / "model")
    assert_one_line_error(result, str(empty), "contains no samples")
    assert not (tmp_path / "model").exists()


def test_every_bad_setting_is_named_at_once(tmp_path: Path) -> None:
    result = gazesite("train", "--data", tmp_path / "missing.json", "--epochs", "0", "--out", tmp_path / "model")
    assert_one_line_error(result, "--epochs must be >= 1, got 0", "missing.json: no such file")


def test_held_out_and_unknown_renderers_are_named_at_once(tmp_path: Path) -> None:
    result = gazesite("train", "--synthetic", "10", "--renderers", "cartoon,raycast,bogus", "--epochs", "0", "--out", tmp_path / "m")
    assert_one_line_error(result, "'raycast' is held out", "'bogus' is not a renderer", "--epochs must be >= 1", "cartoon, vector")
    result = gazesite("dataset", "synth", "--count", "5", "--renderers", "raycast,studio", "--out", tmp_path / "d.json")
    assert_one_line_error(result, "'raycast' is held out", "'studio' is held out")
    assert not (tmp_path / "d.json").exists()


def test_no_training_data(tmp_path: Path) -> None:
    assert_one_line_error(gazesite("train", "--out", tmp_path / "model"), "no training data")


def test_dataset_with_wrong_crop_size_for_training(tmp_path: Path) -> None:
    import numpy as np

    path = tmp_path / "big.json"
    save_dataset(Dataset(np.zeros((4, 64, 64), np.uint8), np.full((4, 2), 0.5)), path)
    assert_one_line_error(gazesite("train", "--data", path, "--out", tmp_path / "m"), "crop_size is 64, the model expects 50")


@pytest.mark.parametrize("args", [("dataset", "synth", "--count", "0", "--out", "x.json"), ("convert",), ("dataset", "info")])
def test_usage_errors_exit_with_2(args: tuple[str, ...], tmp_path: Path) -> None:
    result = gazesite(*args, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr


@pytest.mark.slow  # trains and converts in fresh processes
def test_synth_train_convert_from_the_command_line(tmp_path: Path) -> None:
    data = tmp_path / "faces.json.gz"
    result = gazesite("dataset", "synth", "--count", "64", "--seed", "2", "--out", data)
    assert result.returncode == 0, result.stderr
    assert "64 crops" in result.stdout
    info = json.loads(gazesite("dataset", "info", data).stdout)
    assert info["samples"] == 64 and info["metadata"]["source"] == "synthetic"

    model = tmp_path / "model"
    result = gazesite("train", "--data", data, "--epochs", "1", "--out", model)
    assert result.returncode == 0, result.stderr
    assert "validation mean Euclidean error" in result.stdout and (model / "model.h5").is_file()

    result = gazesite("convert", model, "--out", tmp_path / "web", "--quantize", "float16")
    assert result.returncode == 0, result.stderr
    assert "weight bytes" in result.stdout and (tmp_path / "web" / "model.json").is_file()


def test_init_model_must_exist(tmp_path: Path) -> None:
    data = tmp_path / "d.json"
    import numpy as np

    save_dataset(Dataset(np.zeros((4, 50, 50), np.uint8), np.full((4, 2), 0.5)), data)
    result = gazesite("train", "--data", data, "--init", tmp_path / "nope", "--out", tmp_path / "m")
    assert_one_line_error(result, "--init", "nope", "does not exist")
    assert not (tmp_path / "m").exists()


def test_fine_tuning_records_where_it_started(tiny_model_dir: Path, tmp_path: Path) -> None:
    from gazesite.data.generate import make_dataset
    from gazesite.model.settings import TrainConfig
    from gazesite.model.training import train

    data = tmp_path / "d.json.gz"
    save_dataset(make_dataset(48, seed=21, workers=1, progress=False), data)
    result = train(TrainConfig(out=tmp_path / "tuned", data=(data,), epochs=2, init=tiny_model_dir))
    meta = json.loads((tmp_path / "tuned" / "metadata.json").read_text())
    assert meta["training"]["init"]["model"] == str(tiny_model_dir)
    assert meta["training"]["init"]["validation_error_before"] > 0
    assert result.epochs_run == 2


def out_commands(out: Path) -> dict[str, tuple[str | Path, ...]]:
    """Each command that writes a folder, writing into ``out``."""
    default_model = ROOT_DIR / "models" / "default"
    return {
        "build": ("build", "--no-probe", "--target", "https://example.org/", "--out", out),
        "train": ("train", "--synthetic", "16", "--epochs", "1", "--out", out),
        "convert": ("convert", default_model, "--out", out),
    }


@pytest.mark.parametrize("command", ["build", "train", "convert"])
def test_out_folder_gazesite_did_not_write_is_never_replaced(command: str, tmp_path: Path) -> None:
    out = tmp_path / "thesis"
    out.mkdir()
    (out / "chapter1.tex").write_text("years of work")
    result = gazesite(*out_commands(out)[command])
    assert_one_line_error(result, f"--out {out}", "not empty", f"gazesite {command}", "empty folder")
    assert [p.name for p in out.iterdir()] == ["chapter1.tex"]
    assert (out / "chapter1.tex").read_text() == "years of work"


def test_out_recognises_earlier_output_of_the_same_command(tiny_model_dir: Path, tmp_path: Path) -> None:
    from gazesite.errors import ConfigError
    from gazesite.model.settings import ConvertConfig, TrainConfig
    from gazesite.site.settings import BuildConfig

    TrainConfig(out=tiny_model_dir, synthetic=1).validate()  # a model folder 'gazesite train' wrote
    (tmp_path / "empty").mkdir()
    BuildConfig(target="https://example.org/", model=tiny_model_dir, out=tmp_path / "empty").validate()
    with pytest.raises(ConfigError, match="gazesite convert"):  # a model folder is not a conversion
        ConvertConfig(model=tiny_model_dir, out=tiny_model_dir).validate()
    (tmp_path / "link").symlink_to(tmp_path / "empty")
    with pytest.raises(ConfigError, match="symbolic link"):  # replacing the link would orphan its folder
        BuildConfig(target="https://example.org/", model=tiny_model_dir, out=tmp_path / "link").validate()


def test_training_refuses_string_targets(tmp_path: Path) -> None:
    import numpy as np

    from gazesite.data.dataset import dataset_to_json

    obj = dataset_to_json(Dataset(np.zeros((16, 50, 50), np.uint8), np.full((16, 2), 0.5)))
    obj["targets"] = [[str(x), str(y)] for x, y in obj["targets"]]
    data = tmp_path / "strings.json"
    data.write_text(json.dumps(obj))
    result = gazesite("train", "--data", data, "--epochs", "1", "--out", tmp_path / "model")
    assert_one_line_error(result, str(data), '"targets" must be a list of [x, y] number pairs')
    assert not (tmp_path / "model").exists()


def test_a_permission_refusal_is_one_line_naming_the_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unreadable --db folder or an unwritable --out parent (root is never refused, so the refusal is staged)."""
    from gazesite.report import read

    def refuse(path: Path, limit: int) -> bytes:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(read, "read_bounded", refuse)
    sample = tmp_path / "a.json"
    sample.write_text("{}")
    result = CliRunner().invoke(cli, ["report", str(sample), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1 and not isinstance(result.exception, PermissionError)
    assert result.stderr.strip() == f"Error: {sample}: permission denied: run as a user who may read or write it"
    assert not (tmp_path / "out").exists()
