"""Convert a gazesite Keras model to a (quantized) TensorFlow.js layers model.

Besides ``model.json`` and its weight shards, the output holds
``golden.json``: sample crops with the float model's and the quantized
model's predictions, which the browser parity tests replay.
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gazesite.data.dataset import load_dataset
from gazesite.errors import ModelError
from gazesite.model import TFJS_MODEL_FILE, VALIDATION_FILE, GazeModel, load_model
from gazesite.model.settings import ConvertConfig
from gazesite.staging import CONVERSION_REPORT, staged_directory
from gazesite.track.pipeline import PipelineSpec, crops_to_input, pipeline_constants, spec_for_input_shape

log = logging.getLogger(__name__)

GOLDEN_FILE = "golden.json"
#: How many validation crops go into the golden file for the browser.
GOLDEN_SAMPLES = 16
#: The tensorflowjs converter's name for each --quantize choice.
_DTYPE_MAPS: dict[str, dict[str, str] | None] = {
    "none": None,
    "float16": {"float16": "*"},
    "uint16": {"uint16": "*"},
    "uint8": {"uint8": "*"},
}


@dataclass(frozen=True)
class ConversionReport:
    """Size and accuracy cost of one conversion."""

    out: str
    quantize: str
    weight_bytes: int
    shards: int
    samples: int
    max_abs_diff: float
    mean_abs_diff: float


def convert(config: ConvertConfig) -> ConversionReport:
    """Convert ``config.model`` into a TF.js model directory at ``config.out``."""
    config.validate()
    model = load_model(config.model)
    crops = reference_crops(model)

    import tensorflowjs as tfjs  # slow (~6 s): only conversion pays for it

    out = Path(config.out)
    from tqdm import tqdm

    with staged_directory(out) as staging, tqdm(total=3, desc="converting", unit="step") as bar:
        tfjs.converters.save_keras_model(
            model.keras_model,
            str(staging),
            quantization_dtype_map=_DTYPE_MAPS[config.quantize],
            weight_shard_size_bytes=config.shard_size,
            metadata={"gazesite": tfjs_metadata(model, config.quantize)},
        )
        bar.update(1)
        # Reload what was written: it is what the browser will run.
        reloaded = tfjs.converters.load_keras_model(str(staging / TFJS_MODEL_FILE))
        bar.update(1)
        float_pred = model.predict(crops)
        quant_pred = np.asarray(reloaded.predict_on_batch(crops_to_input(crops, model.channels)), np.float32)
        diff = np.abs(float_pred.astype(np.float64) - quant_pred)
        write_golden(
            staging / GOLDEN_FILE, crops[:GOLDEN_SAMPLES], float_pred[:GOLDEN_SAMPLES], quant_pred[:GOLDEN_SAMPLES], config.quantize
        )
        shards = sorted(p for p in staging.iterdir() if p.suffix == ".bin")
        report = ConversionReport(
            out=str(out),
            quantize=config.quantize,
            weight_bytes=sum(p.stat().st_size for p in shards),
            shards=len(shards),
            samples=len(crops),
            max_abs_diff=float(diff.max()),
            mean_abs_diff=float(diff.mean()),
        )
        (staging / CONVERSION_REPORT).write_text(json.dumps(asdict(report) | {"out": out.name}, indent=2) + "\n")
        bar.update(1)
    log.debug(
        "wrote %s: %d weight bytes in %d shard(s), |diff| max %.2e mean %.2e",
        out,
        report.weight_bytes,
        report.shards,
        report.max_abs_diff,
        report.mean_abs_diff,
    )
    return report


#: Synthetic crops that check a model which brought no validation crops of its own.
SYNTHETIC_REFERENCE_CROPS = 64


def reference_crops(model: GazeModel) -> np.ndarray:
    """Return crops to compare float and quantized predictions on.

    The validation crops saved by ``gazesite train`` when there are some;
    otherwise synthetic faces cut at the model's crop size.
    """
    path = model.path / VALIDATION_FILE if model.path.is_dir() else None
    if path is not None and path.is_file():
        crops = load_dataset(path).crops
        if crops.shape[1] != model.crop_size:
            raise ModelError(f"model {model.path}: {VALIDATION_FILE} holds {crops.shape[1]}px crops, the model takes {model.crop_size}px")
        return crops
    from gazesite.data.generate import make_dataset

    return make_dataset(SYNTHETIC_REFERENCE_CROPS, seed=0, workers=1, progress=False, spec=model_spec(model)).crops


def model_spec(model: GazeModel) -> PipelineSpec:
    """The pipeline that feeds this model."""
    return spec_for_input_shape(tuple(model.keras_model.input_shape[1:]))


def tfjs_metadata(model: GazeModel, quantize: str) -> dict[str, Any]:
    """Return what the browser needs to know, stored in model.json's userDefinedMetadata."""
    validation = model.metadata.get("validation", {})
    return {
        "pipeline": pipeline_constants(model_spec(model)),
        "input_shape": list(model.keras_model.input_shape[1:]),
        "source_format": model.format,
        "quantization": quantize,
        "validation_mean_euclidean_error": validation.get("mean_euclidean_error"),
    }


def write_golden(path: Path, crops: np.ndarray, float_pred: np.ndarray, quant_pred: np.ndarray, quantize: str) -> None:
    """Save crops and predictions as JSON for the browser parity tests."""
    golden = {
        "quantization": quantize,
        "crop_size": int(crops.shape[1]),
        "crops": [base64.b64encode(c.tobytes()).decode("ascii") for c in crops],
        "keras": float_pred.tolist(),
        "quantized": quant_pred.tolist(),
    }
    path.write_text(json.dumps(golden, indent=1) + "\n")
