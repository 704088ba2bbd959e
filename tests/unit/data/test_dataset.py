"""The dataset file format: round trip and rejection of malformed files."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from gazesite.data.dataset import Dataset, dataset_to_json, load_dataset, save_dataset
from gazesite.errors import DatasetError


def sample_dataset(n: int = 5) -> Dataset:
    rng = np.random.default_rng(0)
    crops = rng.integers(0, 256, (n, 50, 50), dtype=np.uint8)
    targets = rng.uniform(0, 1, (n, 2)).astype(np.float32)
    return Dataset(crops, targets, {"source": "browser", "screen": {"width": 1280, "height": 800}})


@pytest.mark.parametrize("name", ["data.json", "data.json.gz"])
def test_round_trip(tmp_path: Path, name: str) -> None:
    original = sample_dataset()
    save_dataset(original, tmp_path / name)
    loaded = load_dataset(tmp_path / name)
    np.testing.assert_array_equal(loaded.crops, original.crops)
    np.testing.assert_allclose(loaded.targets, original.targets, atol=1e-6)
    assert loaded.metadata["source"] == "browser"
    assert loaded.metadata["screen"] == {"width": 1280, "height": 800}
    assert loaded.metadata["pipeline_version"] == 1


def test_saving_twice_gives_identical_bytes(tmp_path: Path) -> None:
    save_dataset(sample_dataset(), tmp_path / "a.json.gz")
    save_dataset(sample_dataset(), tmp_path / "b.json.gz")
    assert (tmp_path / "a.json.gz").read_bytes() == (tmp_path / "b.json.gz").read_bytes()


def test_a_file_written_like_javascript_would_loads(tmp_path: Path) -> None:
    """The browser writes plain JSON with btoa(): no numpy involved."""
    crops = bytes(range(256)) * 20  # 2 crops of 50x50 = 5000 bytes, then trimmed
    obj = {
        "format": "gazesite-dataset",
        "version": 1,
        "crop_size": 50,
        "count": 2,
        "crops": base64.b64encode(crops[:5000]).decode(),
        "targets": [[0.1, 0.2], [0.9, 1]],
        "metadata": {"source": "browser"},
    }
    (tmp_path / "js.json").write_text(json.dumps(obj))
    data = load_dataset(tmp_path / "js.json")
    assert data.crops.shape == (2, 50, 50) and data.crops[0, 0, 5] == 5
    np.testing.assert_allclose(data.targets, [[0.1, 0.2], [0.9, 1.0]], rtol=1e-6)


def valid_object() -> dict:
    return dataset_to_json(sample_dataset(3))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda o: o.update(format="other"), '"format" must be "gazesite-dataset"'),
        (lambda o: o.update(version=99), 'unsupported "version" 99'),
        (lambda o: o.update(crop_size="50"), '"crop_size" must be an integer'),
        (lambda o: o.update(count=4), '"crops" holds 7500 bytes, expected count'),
        (lambda o: o.update(count=0, crops="", targets=[]), "contains no samples"),
        (lambda o: o.update(crops="@@not base64@@"), '"crops" is not valid base64'),
        (lambda o: o.update(targets=[[0.5, 0.5]] * 2), '"targets" must be 3 [x, y] pairs'),
        (lambda o: o.update(targets=[[0.5, 1.5]] * 3), '"targets" must be finite numbers from 0 to 1'),
        (lambda o: o.update(targets=[["a", "b"]] * 3), '"targets" must be a list of [x, y] number pairs'),
        (lambda o: o.update(metadata=[]), '"metadata" must be an object'),
        (lambda o: o.update(version=True), 'unsupported "version" True'),
        (lambda o: o.update(version=1.0), 'unsupported "version" 1.0'),
        (lambda o: o.update(targets=[["0.5", "0.5"]] * 3), '"targets" must be a list of [x, y] number pairs'),
        (lambda o: o.update(targets=[[True, False]] * 3), '"targets" must be a list of [x, y] number pairs'),
        (lambda o: o.update(targets=[[0.5, 0.5, 0.5]] * 3), '"targets" must be 3 [x, y] pairs'),
        (lambda o: o.update(targets={"x": 0.5}), '"targets" must be 3 [x, y] pairs'),
        (lambda o: o.update(targets=[[10**400, 0.5]] * 3), "holds an integer of 401 digits (at most 30)"),
    ],
)
def test_malformed_files_are_rejected_with_a_named_problem(tmp_path: Path, change, message: str) -> None:
    obj = valid_object()
    change(obj)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(obj))
    with pytest.raises(DatasetError) as info:
        load_dataset(path)
    assert message in info.value.message
    assert str(path) in info.value.message


@pytest.mark.parametrize("content", [b"", b"{not json", b"\x1f\x8b broken gzip", b"[1, 2, 3]"])
def test_unreadable_files_are_rejected(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(DatasetError, match=r"bad\.json"):
        load_dataset(path)


def test_missing_file_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset(tmp_path / "nope.json")


def test_gzip_of_a_valid_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(json.dumps(valid_object()).encode()))
    assert len(load_dataset(path)) == 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"format": "gazesite-dataset", "metadata": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested deeper than 100 levels"),
        (b"[" * 100_000 + b"]" * 100_000, "nested deeper than 100 levels"),
        (b"[1, 2, 3]", '"format" must be "gazesite-dataset"'),
    ],
    ids=["deep-metadata", "deep-array", "list"],
)
def test_hostile_json_is_a_named_problem(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(DatasetError) as info:
        load_dataset(path)
    assert message in info.value.message and str(path) in info.value.message


def test_deeply_nested_dataset_is_one_line_on_the_command_line(tmp_path: Path) -> None:
    from tests.helpers import assert_one_line_error, gazesite

    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    assert_one_line_error(gazesite("dataset", "info", path), str(path), "nested deeper than 100 levels")


def test_a_fifo_or_device_is_not_read_as_a_dataset(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "data.json"
    os.mkfifo(fifo)
    for path in (fifo, Path("/dev/zero")):
        with pytest.raises(DatasetError, match="is not a regular file"):
            load_dataset(path)


def gzip_bomb(path: Path, unpacked: int, forge_declared_size: bool = False) -> Path:
    """A gzip file of ``unpacked`` zero bytes, optionally with a trailer that claims 1 KiB."""
    import zlib

    packer = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zero = bytes(1024 * 1024)
    data = b"".join(packer.compress(zero) for _ in range(unpacked // len(zero))) + packer.flush()
    if forge_declared_size:
        data = data[:-4] + (1024).to_bytes(4, "little")
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("forged", [False, True], ids=["declared", "forged-trailer"])
def test_gzip_bomb_is_refused_within_a_second(tmp_path: Path, forged: bool) -> None:
    import time

    from gazesite.bounded import MAX_DATASET_BYTES

    bomb = gzip_bomb(tmp_path / "bomb.json.gz", 2 * MAX_DATASET_BYTES, forged)
    started = time.perf_counter()
    with pytest.raises(DatasetError) as info:
        load_dataset(bomb)
    assert time.perf_counter() - started < 1.0
    assert "unpacks to more than 128 MiB" in info.value.message and str(bomb) in info.value.message
