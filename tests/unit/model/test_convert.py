"""Conversion to TF.js for every quantization, checked by reloading what was written."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest

from gazesite.model import load_model
from gazesite.model.convert import convert
from gazesite.model.settings import ConvertConfig

#: Largest allowed |difference| between the reloaded TF.js model and the float
#: Keras model, in screen fractions. uint8 affine quantization of ~50k weights
#: costs about 1e-3 on average on the default model; these bounds leave room
#: for a barely trained model whose weights are less regular.
MAX_ABS_DIFF = {"none": 1e-5, "float16": 2e-3, "uint16": 2e-3, "uint8": 5e-2}
#: Weight bytes per parameter each dtype should cost.
BYTES_PER_WEIGHT = {"none": 4, "float16": 2, "uint16": 2, "uint8": 1}


@pytest.mark.parametrize("quantize", list(MAX_ABS_DIFF))
def test_conversion_for_each_quantization(tiny_model_dir: Path, tmp_path: Path, quantize: str) -> None:
    out = tmp_path / f"tfjs-{quantize}"
    report = convert(ConvertConfig(model=tiny_model_dir, out=out, quantize=quantize, shard_size=64 * 1024))
    model_json = json.loads((out / "model.json").read_text())
    shards = sorted(out.glob("*.bin"))
    assert shards and report.shards == len(shards)
    assert all(p.stat().st_size <= 64 * 1024 for p in shards)
    manifest_paths = [p for group in model_json["weightsManifest"] for p in group["paths"]]
    assert sorted(manifest_paths) == [p.name for p in shards]
    parameters = load_model(tiny_model_dir).keras_model.count_params()
    assert report.weight_bytes == sum(p.stat().st_size for p in shards)
    # Affine quantization adds a scale and minimum per tensor, hence the slack.
    assert abs(report.weight_bytes - parameters * BYTES_PER_WEIGHT[quantize]) < 200
    assert report.max_abs_diff <= MAX_ABS_DIFF[quantize]
    assert report.mean_abs_diff <= report.max_abs_diff
    if quantize == "none":
        assert report.max_abs_diff < 1e-5
    else:
        assert report.max_abs_diff > 0  # quantization really happened

    meta = model_json["userDefinedMetadata"]["gazesite"]
    assert meta["pipeline"]["crop_size"] == 50 and meta["quantization"] == quantize
    assert model_json["format"] == "layers-model"


def test_golden_file_replays_in_python(tiny_model_dir: Path, tmp_path: Path) -> None:
    import tensorflowjs as tfjs

    from gazesite.track.pipeline import crops_to_input

    out = tmp_path / "tfjs"
    convert(ConvertConfig(model=tiny_model_dir, out=out, quantize="uint8"))
    golden = json.loads((out / "golden.json").read_text())
    crops = np.stack([np.frombuffer(base64.b64decode(c), np.uint8).reshape(50, 50) for c in golden["crops"]])
    assert len(crops) == 16
    np.testing.assert_allclose(load_model(tiny_model_dir).predict(crops), golden["keras"], atol=1e-6)
    reloaded = tfjs.converters.load_keras_model(str(out / "model.json"))
    np.testing.assert_allclose(reloaded.predict_on_batch(crops_to_input(crops)), golden["quantized"], atol=1e-6)


def test_failed_conversion_keeps_the_previous_output(tiny_model_dir: Path, tmp_path: Path) -> None:
    from gazesite.errors import GazesiteError

    out = tmp_path / "tfjs"
    convert(ConvertConfig(model=tiny_model_dir, out=out, quantize="float16"))
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model.h5").write_bytes(b"not hdf5")
    with pytest.raises(GazesiteError):
        convert(ConvertConfig(model=broken, out=out, quantize="uint8"))
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
