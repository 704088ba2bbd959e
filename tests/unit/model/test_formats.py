"""Bring your own model: every accepted format converts; every known trap is one clear line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from gazesite.data.dataset import Dataset, save_dataset
from gazesite.model import load_model
from gazesite.model.convert import convert
from gazesite.model.inspection import inspect_model
from gazesite.model.settings import ConvertConfig
from tests.helpers import assert_one_line_error, gazesite, own_models
from tests.helpers.paths import ROOT_DIR


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("own-models")


@pytest.mark.parametrize(
    ("name", "make", "shape", "kind"),
    [
        ("tf_keras_64.h5", own_models.tf_keras_h5, (64, 64, 1), "h5"),
        pytest.param("keras3.keras", own_models.keras3_file, (50, 50, 1), "keras", marks=pytest.mark.slow),  # imports Keras 3 too
        pytest.param("savedmodel", own_models.saved_model_dir, (50, 50, 1), "savedmodel", marks=pytest.mark.slow),
        ("rgb.h5", lambda p: own_models.tf_keras_h5(p, (50, 50, 3)), (50, 50, 3), "h5"),
    ],
)
def test_accepted_formats_convert(models: Path, name: str, make: Callable[[Path], Path], shape: tuple[int, int, int], kind: str) -> None:
    path = make(models / name)
    model = load_model(path)
    assert model.format == kind and (model.crop_size, model.channels) == (shape[0], shape[2])
    assert model.predict(own_models.random_crops(3, shape[0])).shape == (3, 2)

    report = inspect_model(path)
    assert report.buildable and report.input_shape == list(shape) and report.parameters > 0

    out = models / f"{name}-tfjs"
    result = convert(ConvertConfig(model=path, out=out, quantize="none"))
    assert result.max_abs_diff < 1e-5
    meta = json.loads((out / "model.json").read_text())["userDefinedMetadata"]["gazesite"]
    assert meta["pipeline"]["crop_size"] == shape[0] and meta["pipeline"]["channels"] == shape[2]
    assert meta["source_format"] == kind


def test_keras3_rebuild_predicts_like_the_original(models: Path) -> None:
    import keras

    from gazesite.track.pipeline import crops_to_input

    path = own_models.keras3_file(models / "k3-check.keras")
    crops = own_models.random_crops(5, 50)
    original = np.asarray(keras.saving.load_model(path, compile=False)(crops_to_input(crops)))
    np.testing.assert_allclose(load_model(path).predict(crops), original, atol=1e-5)


TRAPS = [
    ("custom_layer.h5", own_models.custom_layer_h5, ("custom layer 'Brighten'", "built-in Keras layers")),
    ("custom_activation.h5", own_models.custom_activation_h5, ("custom activation 'squashed'",)),
    ("custom_regularizer.h5", own_models.custom_regularizer_h5, ("custom regularizer 'tiny_l1'", "training-only", "set_weights")),
    ("lambda.h5", own_models.lambda_h5, ("Lambda", "Python code")),
    ("three_outputs.h5", lambda p: own_models.tf_keras_h5(p, (50, 50, 1), outputs=3), ("outputs (None, 3)", "expected 2 values")),
    ("not_square.h5", lambda p: own_models.tf_keras_h5(p, (50, 40, 1)), ("input shape (50, 40, 1)", "(S, S, 1)")),
    ("too_small.h5", lambda p: own_models.tf_keras_h5(p, (12, 12, 1)), ("12px crops", "16 to 256px")),
]


@pytest.mark.parametrize(("name", "make", "fragments"), TRAPS, ids=[t[0] for t in TRAPS])
def test_traps_are_named_by_inspection_and_conversion(
    models: Path, name: str, make: Callable[[Path], Path], fragments: tuple[str, ...], tmp_path: Path
) -> None:
    from gazesite.errors import ModelError

    path = make(models / name)
    report = inspect_model(path)
    assert not report.buildable and report.problem is not None and all(f in report.problem for f in fragments)
    with pytest.raises(ModelError) as refused:
        convert(ConvertConfig(model=path, out=tmp_path / "out", quantize="none"))
    assert name in str(refused.value) and all(f in str(refused.value) for f in fragments)
    assert not (tmp_path / "out").exists()


@pytest.mark.slow  # one TensorFlow start per trap
@pytest.mark.parametrize(("name", "make", "fragments"), TRAPS, ids=[t[0] for t in TRAPS])
def test_traps_are_one_line_errors_from_the_command_line(
    models: Path, name: str, make: Callable[[Path], Path], fragments: tuple[str, ...], tmp_path: Path
) -> None:
    path = make(models / name)
    result = gazesite("convert", path, "--out", tmp_path / "out")
    assert_one_line_error(result, name, *fragments)
    assert not (tmp_path / "out").exists()


@pytest.mark.slow  # starts TensorFlow in a fresh process
def test_build_rejects_a_trap_without_writing(models: Path, tmp_path: Path) -> None:
    path = own_models.custom_layer_h5(models / "build_trap.h5")
    result = gazesite("build", "--no-probe", "--target", "https://example.org/", "--model", path, "--out", tmp_path / "dist")
    assert_one_line_error(result, "custom layer 'Brighten'")
    assert not (tmp_path / "dist").exists()


@pytest.mark.parametrize(
    "content",
    # a file that looks like HDF5 gets as far as TensorFlow, whose start takes seconds
    [b"just some text", pytest.param(b"\x89HDF\r\n\x1a\nbroken", marks=pytest.mark.slow), b"PK\x03\x04 not a zip"],
)
def test_files_that_are_not_models(content: bytes, tmp_path: Path) -> None:
    path = tmp_path / "model.h5"
    path.write_bytes(content)
    result = gazesite("convert", path, "--out", tmp_path / "out")
    assert_one_line_error(result, str(path))
    assert not (tmp_path / "out").exists()


@pytest.mark.slow  # starts TensorFlow in a fresh process
def test_inspect_reports_a_trap_and_exits_non_zero(models: Path) -> None:
    path = own_models.lambda_h5(models / "inspect_lambda.h5")
    result = gazesite("inspect", path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "buildable:   no:" in result.stdout and "Lambda" in result.stdout


@pytest.mark.slow  # starts TensorFlow in a fresh process
def test_inspect_the_default_model() -> None:
    result = gazesite("inspect", ROOT_DIR / "models" / "default")
    assert result.returncode == 0
    assert "(50, 50, 1)" in result.stdout and "51,010" in result.stdout and "buildable:   yes" in result.stdout


def limited_memory() -> None:
    """Cap a child's address space, so a model read whole fails the test rather than the machine."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (3 * 1024**3, 3 * 1024**3))


def gazesite_limited(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run the CLI with 3 GiB of address space and 60 s: a read of /dev/zero or a FIFO cannot pass."""
    return subprocess.run(
        [sys.executable, "-m", "gazesite", *map(str, args)], capture_output=True, text=True, timeout=60, preexec_fn=limited_memory
    )


@pytest.mark.parametrize("special", ["/dev/zero", "fifo"])
@pytest.mark.parametrize("command", ["inspect", "convert", "build"])
def test_device_or_fifo_as_a_model_is_refused_at_once(special: str, command: str, tmp_path: Path) -> None:
    model = Path(special)
    if special == "fifo":
        model = tmp_path / "model.h5"
        os.mkfifo(model)  # nobody ever writes: opening it for reading would wait forever
    args = {
        "inspect": ("inspect", model),
        "convert": ("convert", model, "--out", tmp_path / "out"),
        "build": ("build", "--no-probe", "--target", "https://example.org/", "--model", model, "--out", tmp_path / "out"),
    }[command]
    assert_one_line_error(gazesite_limited(*args), str(model), "not a regular file")
    assert not (tmp_path / "out").exists()


def zip_bomb(path: Path, unpacked: int) -> Path:
    """A real Keras 3 .keras archive whose weights member unpacks to ``unpacked`` bytes of zeros."""
    import zipfile

    base = own_models.keras3_file(path.with_name("bomb-base.keras"))
    zero = bytes(1024 * 1024)
    with zipfile.ZipFile(base) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as bomb:
        for name in ("metadata.json", "config.json"):
            bomb.writestr(name, source.read(name))
        with bomb.open("model.weights.h5", "w", force_zip64=True) as member:
            for _ in range(unpacked // len(zero)):
                member.write(zero)
    return path


def test_keras_zip_bomb_is_refused_before_unpacking(tmp_path: Path) -> None:
    from gazesite.bounded import MAX_MODEL_BYTES
    from gazesite.errors import ModelError
    from gazesite.model.formats import detect_format

    bomb = zip_bomb(tmp_path / "bomb.keras", MAX_MODEL_BYTES + 1024 * 1024)
    assert bomb.stat().st_size < 5 * 1024 * 1024
    started = time.perf_counter()
    with pytest.raises(ModelError, match="unpacks to more than 512 MiB"):
        detect_format(bomb)
    assert time.perf_counter() - started < 1.0
    assert_one_line_error(gazesite_limited("inspect", bomb), str(bomb), "unpacks to more than 512 MiB")


LAMBDA_FILES = {"h5": "trap.h5", "gazesite": "trap-dir", "tf_keras": "trap.keras", "keras3": "trap3.keras", "savedmodel": "trap-savedmodel"}


@pytest.fixture(scope="module")
def lambda_traps(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Path], Path]:
    """The marker trap in every format, and the marker its code would write."""
    folder = tmp_path_factory.mktemp("lambda-traps")
    marker = folder / "code-ran"
    return {kind: own_models.marker_lambda_model(folder / name, marker, kind) for kind, name in LAMBDA_FILES.items()}, marker


@pytest.mark.parametrize("kind", list(LAMBDA_FILES))
def test_lambda_code_never_runs_while_loading(lambda_traps: tuple[dict[str, Path], Path], kind: str) -> None:
    from gazesite.errors import ModelError
    from gazesite.model.formats import load_keras

    models, marker = lambda_traps
    marker.unlink(missing_ok=True)  # each test sees only its own run
    with pytest.raises(ModelError, match=r"layer 'lambda\w*' \(Lambda\) holds Python code"):
        load_keras(models[kind])
    assert not marker.exists()


@pytest.mark.slow  # one TensorFlow start per command
@pytest.mark.parametrize("command", ["inspect", "build", "convert", "train"])
def test_lambda_code_never_runs_from_the_command_line(lambda_traps: tuple[dict[str, Path], Path], command: str, tmp_path: Path) -> None:
    models, marker = lambda_traps
    marker.unlink(missing_ok=True)  # each test sees only its own run
    data = tmp_path / "d.json"
    save_dataset(Dataset(own_models.random_crops(16, 50), np.full((16, 2), 0.5)), data)
    args = {
        "inspect": ("inspect", models["h5"]),
        "build": ("build", "--no-probe", "--target", "https://example.org/", "--model", models["h5"], "--out", tmp_path / "out"),
        "convert": ("convert", models["h5"], "--out", tmp_path / "out"),
        "train": ("train", "--data", data, "--epochs", "1", "--init", models["gazesite"], "--out", tmp_path / "out"),
    }[command]
    result = gazesite(*args)
    assert not marker.exists(), f"the model's Python code ran during 'gazesite {command}'"
    if command == "inspect":
        assert result.returncode == 1 and "buildable:   no:" in result.stdout and "(Lambda) holds Python code" in result.stdout
    else:
        assert_one_line_error(result, "(Lambda) holds Python code")
    assert not (tmp_path / "out").exists()


def test_an_object_from_another_python_module_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A config may name only Keras's own objects: one it attributes to another module (which a loader might import) is refused unread."""
    import zipfile

    from gazesite.errors import ModelError
    from gazesite.model.formats import load_keras

    marker = tmp_path / "imported"
    (tmp_path / "gazesite_trap_module.py").write_text(f"open({str(marker)!r}, 'w').write('imported')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    honest = own_models.small_cnn(own_models.import_keras(), (50, 50, 1))
    honest.save(tmp_path / "honest.keras")
    trap = tmp_path / "trap.keras"
    with zipfile.ZipFile(tmp_path / "honest.keras") as source, zipfile.ZipFile(trap, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == "config.json":
                config = json.loads(data)
                config["config"]["layers"][1].update(module="gazesite_trap_module", class_name="Conv2D", registered_name="Conv2D")
                data = json.dumps(config).encode()
            target.writestr(name, data)
    with pytest.raises(ModelError, match="custom layer 'Conv2D'"):
        load_keras(trap)
    assert not marker.exists()
