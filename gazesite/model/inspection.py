"""``gazesite inspect``: what gazesite sees in a model, and whether it can build a site with it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gazesite.errors import ModelError

#: Bytes per weight for each --quantize choice (affine quantization adds a few bytes per tensor).
BYTES_PER_WEIGHT = {"none": 4, "float16": 2, "uint16": 2, "uint8": 1}


@dataclass
class ModelReport:
    """Everything ``gazesite inspect`` prints."""

    path: Path
    format: str
    keras_version: str | None = None
    input_shape: list[Any] | None = None
    output_shape: list[Any] | None = None
    layers: list[tuple[str, str, int]] = field(default_factory=list)  # name, class, parameters
    parameters: int = 0
    problem: str | None = None

    @property
    def buildable(self) -> bool:
        """True when ``gazesite build --model`` accepts this model."""
        return self.problem is None

    def weight_bytes(self) -> dict[str, int]:
        """Approximate weight bytes per quantization."""
        return {name: self.parameters * size for name, size in BYTES_PER_WEIGHT.items()}

    def to_text(self) -> str:
        """The report as lines of text."""
        lines = [
            f"model:       {self.path}",
            f"format:      {self.format}" + (f" (Keras {self.keras_version})" if self.keras_version else ""),
        ]
        if self.input_shape is not None:
            lines.append(
                f"input:       {tuple(self.input_shape)}  -> {self.input_shape[0]}x{self.input_shape[1]} face crops, {self.input_shape[2]} channel(s)"
            )
            lines.append(f"output:      {tuple(self.output_shape or ())}")
        if self.layers:
            lines.append("layers:")
            lines.extend(f"  {name:<24}{cls:<22}{params:>10,}" for name, cls, params in self.layers)
        if self.parameters:
            lines.append(f"parameters:  {self.parameters:,}")
            lines.append("weights:     " + ", ".join(f"{q} {b:,} B" for q, b in self.weight_bytes().items()))
        lines.append("buildable:   yes" if self.buildable else f"buildable:   no: {self.problem}")
        return "\n".join(lines)


def inspect_model(path: Path) -> ModelReport:
    """Describe the model at ``path``; a model gazesite cannot use gets a problem, not an exception."""
    from gazesite.model.formats import detect_format, load_keras

    path = Path(path)
    kind = detect_format(path)  # not a model at all: a one-line error
    if kind == "tfjs":
        return inspect_tfjs(path)
    report = ModelReport(path, kind)
    try:
        loaded = load_keras(path)
    except ModelError as exc:
        report.problem = exc.message
        return report
    model = loaded.keras_model
    report.keras_version = loaded.keras_version
    report.input_shape = list(model.input_shape[1:])
    report.output_shape = list(model.output_shape[1:])
    report.layers = [(layer.name, type(layer).__name__, int(layer.count_params())) for layer in model.layers]
    report.parameters = int(model.count_params())
    return report


def inspect_tfjs(path: Path) -> ModelReport:
    """Describe a TF.js layers model from its model.json alone."""
    from gazesite.model.tfjs import check_tfjs_model, read_model_json, tfjs_input_shape

    report = ModelReport(path, "tfjs")
    model_json = read_model_json(path)  # not JSON at all: a one-line error
    try:
        check_tfjs_model(path)
    except ModelError as exc:
        report.problem = exc.message
    try:
        report.input_shape = list(tfjs_input_shape(model_json))
        config = model_json["modelTopology"]["model_config"]["config"]
        layers = config["layers"] if isinstance(config, dict) else config
        report.layers = [(layer["config"].get("name", "?"), layer["class_name"], 0) for layer in layers]
        weights = [w for group in model_json["weightsManifest"] for w in group["weights"]]
        report.parameters = int(sum(np.prod(w["shape"]) for w in weights))
        report.output_shape = [2]
    except (KeyError, IndexError, TypeError, ValueError, AttributeError):
        report.problem = report.problem or "model.json does not describe a layers model gazesite can read"
    return report
