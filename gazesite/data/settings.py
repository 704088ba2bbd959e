"""Settings of ``gazesite dataset synth`` and the renderer choice synthetic training shares with it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gazesite.data.faces import DEFAULT_RENDERERS, TRAINING_RENDERERS, renderer_problems
from gazesite.errors import ConfigError


def parse_renderers(value: str) -> tuple[str, ...]:
    """Split a comma-separated --renderers value into names (blanks dropped)."""
    return tuple(name.strip() for name in value.split(",") if name.strip())


def synthetic_problems(renderers: tuple[str, ...]) -> list[str]:
    """One problem per renderer that synthetic training data must not use (--renderers)."""
    return [f"--renderers: {problem} (training renderers: {', '.join(TRAINING_RENDERERS)})" for problem in renderer_problems(renderers)]


@dataclass(frozen=True)
class SynthConfig:
    """Settings of ``gazesite dataset synth``."""

    count: int
    out: Path
    seed: int = 0
    renderers: tuple[str, ...] = DEFAULT_RENDERERS
    augment: bool = False

    def validate(self) -> SynthConfig:
        """Return self, or raise ConfigError listing every problem."""
        problems = []
        if self.count < 1:
            problems.append(f"--count must be >= 1, got {self.count}")
        problems.extend(synthetic_problems(self.renderers))
        if self.out.exists() and self.out.is_dir():
            problems.append(f"--out {self.out}: is a directory (expected a dataset file, .json or .json.gz)")
        if problems:
            raise ConfigError(problems)
        return self
