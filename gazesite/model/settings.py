"""Settings of ``gazesite train`` and ``gazesite convert``, and the folder a training run writes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gazesite.data.faces import DEFAULT_RENDERERS
from gazesite.data.settings import synthetic_problems
from gazesite.errors import ConfigError
from gazesite.model import METADATA_FILE
from gazesite.staging import CONVERSION_OUTPUT, OutputKind, out_problem

#: The weight types a conversion (and a build, which converts) may write.
QUANTIZATIONS = ("none", "float16", "uint16", "uint8")
#: Most strangers a training run draws: each costs a few seconds, and a factor in 0.05 steps needs no more.
MAX_STRANGERS = 100
#: A model folder 'gazesite train' wrote: a rerun may replace it (and no other folder).
MODEL_OUTPUT = OutputKind("gazesite train", METADATA_FILE, ("format", "pipeline", "training", "validation"))


@dataclass(frozen=True)
class TrainConfig:
    """Settings of ``gazesite train``."""

    out: Path
    data: tuple[Path, ...] = ()
    synthetic: int = 0
    epochs: int = 40
    seed: int = 0
    batch_size: int = 64
    validation_fraction: float = 0.1
    patience: int = 6
    init: Path | None = None  # fine-tune this model instead of starting from random weights
    renderers: tuple[str, ...] = DEFAULT_RENDERERS  # who draws the --synthetic faces
    augment: bool = False  # degrade synthetic frames like cheap webcams (domain randomisation)
    strangers: int = 0  # people of the renderers, unlike the training people, to fit the hedge on (gazesite.model.strangers)

    def validate(self) -> TrainConfig:
        """Return self, or raise ConfigError listing every problem."""
        problems = []
        if not self.data and self.synthetic <= 0:
            problems.append("no training data: give --data FILE and/or --synthetic N (N > 0)")
        if self.synthetic < 0:
            problems.append(f"--synthetic must be >= 0, got {self.synthetic}")
        if self.epochs < 1:
            problems.append(f"--epochs must be >= 1, got {self.epochs}")
        if self.batch_size < 1:
            problems.append(f"batch size must be >= 1, got {self.batch_size}")
        if not 0 < self.validation_fraction < 1:
            problems.append(f"validation fraction must be between 0 and 1, got {self.validation_fraction}")
        for path in self.data:
            if not Path(path).exists():
                problems.append(f"--data {path}: no such file (expected a gazesite dataset)")
        if out := out_problem(self.out, MODEL_OUTPUT):
            problems.append(out)
        if self.init is not None and not Path(self.init).exists():
            problems.append(f"--init {self.init}: does not exist (expected a folder made by 'gazesite train')")
        problems.extend(synthetic_problems(self.renderers))
        if self.synthetic <= 0 and (tuple(self.renderers) != DEFAULT_RENDERERS or self.augment):
            problems.append("--renderers and --augment shape the --synthetic faces: give --synthetic N as well")
        if not 0 <= self.strangers <= MAX_STRANGERS:
            problems.append(f"--strangers must be between 0 and {MAX_STRANGERS}, got {self.strangers}")
        elif self.strangers and self.synthetic <= 0:
            problems.append("--strangers are drawn by the --renderers of the --synthetic faces: give --synthetic N as well")
        if problems:
            raise ConfigError(problems)
        return self


@dataclass(frozen=True)
class ConvertConfig:
    """Settings of ``gazesite convert``."""

    model: Path
    out: Path
    quantize: str = "uint8"
    shard_size: int = 4 * 1024 * 1024

    def validate(self) -> ConvertConfig:
        """Return self, or raise ConfigError listing every problem."""
        problems = []
        if self.quantize not in QUANTIZATIONS:
            problems.append(f"--quantize {self.quantize!r}: expected one of {', '.join(QUANTIZATIONS)}")
        if self.shard_size < 1024:
            problems.append(f"--shard-size {self.shard_size}: expected at least 1024 bytes")
        if not self.model.exists():
            problems.append(
                f"model {self.model}: does not exist (expected a gazesite model directory, a Keras .h5/.keras file or a SavedModel)"
            )
        if out := out_problem(self.out, CONVERSION_OUTPUT):
            problems.append(out)
        if problems:
            raise ConfigError(problems)
        return self
