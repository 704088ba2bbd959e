"""Face renderers with exact gaze labels: one interface, a registry, and people no model trained on.

Four renderers draw a person looking at a point on the screen:

- ``cartoon``: flat 2D drawing (:mod:`gazesite.data.faces.cartoon`, the shipped model's first teacher);
- ``vector``: 2D polygons of a projected 3D head (:mod:`gazesite.data.faces.vector`);
- ``raycast``: per-pixel ray casting of a 3D scene (:mod:`gazesite.data.faces.raycast`);
- ``studio``: shaded 2.5D portraits with the proportions, glasses, skin tones, side light,
  head turns and webcam artefacts the others lack (:mod:`gazesite.data.faces.studio`).

A model that saw one renderer learns that renderer, not faces, so training
mixes :data:`TRAINING_RENDERERS` and accuracy on "a face unlike any training
face" is measured on :data:`HELD_OUT_RENDERERS`, which no training path
accepts.

Importing this package is cheap (no OpenCV, no numpy): the registry loads a
renderer's module the first time it is used, so command-line validation can
name renderers without slowing ``gazesite --help``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

TRAINING_RENDERERS = ("cartoon", "vector")
HELD_OUT_RENDERERS = ("raycast", "studio")
RENDERER_NAMES = TRAINING_RENDERERS + HELD_OUT_RENDERERS
#: What make_dataset and ``gazesite train`` use unless told otherwise (the shipped model's data).
DEFAULT_RENDERERS = ("cartoon",)
#: Marks the seeds of held-out people; any nonzero 32-bit value works (see held_out_seed).
HELD_OUT_TAG = 0x4E0F_5EED
#: Marks the seeds of strangers: people of the training renderers, outside their training ranges, that training
#: may look at after fitting (gazesite.model.strangers); nonzero and not HELD_OUT_TAG, so a third set of people.
STRANGER_TAG = 0x57A_4E25
#: Frames per person in a training stream (the shipped model's data was drawn with 8).
FRAMES_PER_PERSON = 8


@dataclass(frozen=True)
class SyntheticSample:
    """One rendered frame with its gaze label."""

    frame: np.ndarray  # uint8 RGBA (240, 320, 4)
    target: tuple[float, float]  # where the person looks, 0..1 of the screen
    identity: Any  # the renderer's person, as drawn in this frame


@dataclass(frozen=True)
class Renderer:
    """A way of drawing people: draw a person, move them a little, render them looking at a target."""

    name: str
    random_person: Callable[[np.random.Generator], Any]
    jitter: Callable[[Any, np.random.Generator], Any]
    # (person, target (x, y) in 0..1 of the screen, rng for per-frame noise) -> uint8 RGBA (240, 320, 4)
    render: Callable[[Any, tuple[float, float], np.random.Generator], np.ndarray]
    unseen_person: Callable[[np.random.Generator], Any]  # a person with settings outside the training ranges


class _Registry(Mapping[str, Renderer]):
    """Renderers by name; a renderer's module is imported when it is first looked up."""

    def __getitem__(self, name: str) -> Renderer:
        if name not in RENDERER_NAMES:
            raise KeyError(name)
        module = importlib.import_module(f"gazesite.data.faces.{name}")
        return Renderer(name, module.random_person, module.jitter, module.render, module.unseen_person)

    def __iter__(self) -> Iterator[str]:
        return iter(RENDERER_NAMES)

    def __len__(self) -> int:
        return len(RENDERER_NAMES)


RENDERERS: Mapping[str, Renderer] = _Registry()


def renderer_problems(names: Sequence[str]) -> list[str]:
    """Why each name cannot be a training renderer (empty if all can)."""
    problems = []
    for name in names:
        if name in HELD_OUT_RENDERERS:
            problems.append(f"{name!r} is held out for testing and never trained on")
        elif name not in TRAINING_RENDERERS:
            problems.append(f"{name!r} is not a renderer")
    if not names:
        problems.append("no renderer given")
    return problems


def check_training_renderers(names: Sequence[str]) -> tuple[str, ...]:
    """Return names as a tuple, or raise ValueError naming every one that training must not use."""
    problems = renderer_problems(names)
    if problems:
        raise ValueError(f"training renderers must be among {', '.join(TRAINING_RENDERERS)}: {'; '.join(problems)}")
    return tuple(names)


def _renderer(renderer: Renderer | str) -> Renderer:
    """The renderer itself, given it or its name."""
    return RENDERERS[renderer] if isinstance(renderer, str) else renderer


def samples(renderer: Renderer | str, seed: int, frames_per_person: int = FRAMES_PER_PERSON) -> Iterator[SyntheticSample]:
    """An endless, seed-determined stream of labelled frames: each person looks at several random targets.

    The generator's draws come in a fixed order (person, then per frame: target, movement, render), so a
    seed gives the same frames on every machine and the shipped model's data can be drawn again.
    """
    import numpy as np

    drawer = _renderer(renderer)
    rng = np.random.default_rng(seed)
    while True:
        person = drawer.random_person(rng)
        for _ in range(frames_per_person):
            target = (float(rng.uniform(0, 1)), float(rng.uniform(0, 1)))
            moved = drawer.jitter(person, rng)
            yield SyntheticSample(drawer.render(moved, target, rng), target, moved)


def training_seed(seed: int, chunk: int) -> int:
    """The 32-bit seed of one training chunk's frame stream (a dataset's chunk ``chunk`` for ``seed``).

    Every training person comes from ``default_rng`` of such a one-word
    seed; held_out_seed relies on that to keep test people apart.
    """
    import numpy as np

    return int(np.random.SeedSequence([seed, chunk]).generate_state(1)[0])


def chunk_renderer(chunk: int, renderers: Sequence[str]) -> str:
    """The renderer that draws a training chunk: they take turns, so each gets its share of any dataset."""
    return renderers[chunk % len(renderers)]


def held_out_seed(renderer_name: str, index: int, tag: int = HELD_OUT_TAG) -> Any:
    """The SeedSequence of held-out person ``index`` of a renderer; no training person can come from it.

    Why disjoint: every training person is drawn from
    ``default_rng(s)`` with ``s = training_seed(seed, chunk)``, a 32-bit
    integer, i.e. from a SeedSequence whose entropy is one word, which
    numpy pads with zeros to its 4-word pool as ``[s, 0, 0, 0]``. For
    entropy of at most 4 words, numpy's pool mixing and the first four state
    words (PCG64's 128-bit starting state) are invertible functions of the
    padded words, so two such sequences start the same generator only if
    their padded words are equal. Held-out people use ``[renderer, index,
    HELD_OUT_TAG]`` (padded ``[r, i, TAG, 0]``): its third word is the
    nonzero tag, never 0, so it equals no training sequence for any seed or
    chunk. (The tag must not be first: ``[TAG]`` and ``[TAG, 0, 0]`` are the
    same sequence, and training could draw s = TAG.) Another nonzero ``tag``
    (STRANGER_TAG) gives a third set of people, apart from both.
    """
    import numpy as np

    if not 0 <= index < 2**32:
        raise ValueError(f"held-out person index must fit in 32 bits, got {index}")
    if tag == 0:
        raise ValueError("a held-out tag must be nonzero (a zero word would meet training seeds)")
    return np.random.SeedSequence([RENDERER_NAMES.index(renderer_name), index, tag])


#: A held-out person counts only if the cascade finds their face in this share of frames looking at a 3x3 grid:
#: a face the detector cannot see is a detection question, not a calibration one.
DETECTABLE_SHARE = 8 / 9
#: How many held-out draws a renderer may skip as undetectable before something is wrong with it.
MAX_SKIPPED = 100


def detectable(renderer: Renderer | str, person: Any) -> bool:
    """Whether the cascade finds this person's face looking at a 3x3 grid of points, often enough to calibrate."""
    from gazesite.track.pipeline import process_frame

    grid = [(x, y) for y in (0.1, 0.5, 0.9) for x in (0.1, 0.5, 0.9)]
    found = sum(process_frame(s.frame).face is not None for s in person_frames(renderer, person, grid, 1, seed=0))
    return found >= DETECTABLE_SHARE * len(grid) - 1e-9


def unseen_people(renderer_name: str, count: int, tag: int = HELD_OUT_TAG) -> list[Any]:
    """The first ``count`` held-out people whose face the cascade finds (see held_out_seed and detectable).

    No training run ever drew them, and their settings lie outside the
    training ranges; draws whose face is too small, too large or too turned
    for the cascade are skipped, in a fixed order, so the list is the same on every run.
    """
    import numpy as np

    drawer = RENDERERS[renderer_name]
    people: list[Any] = []
    for index in range(count + MAX_SKIPPED):
        person = drawer.unseen_person(np.random.default_rng(held_out_seed(renderer_name, index, tag)))
        if detectable(drawer, person):
            people.append(person)
            if len(people) == count:
                return people
    raise RuntimeError(f"fewer than {count} of {count + MAX_SKIPPED} held-out {renderer_name} people have a face the cascade finds")


def random_targets(seed: int, count: int, low: float = 0.05, high: float = 0.95) -> list[tuple[float, float]]:
    """``count`` points on the screen, uniform in [low, high) on both axes (away from the edges), fixed by ``seed``."""
    import numpy as np

    return [(float(x), float(y)) for x, y in np.random.default_rng(seed).uniform(low, high, (count, 2))]


def person_frames(
    renderer: Renderer | str, person: Any, targets: Sequence[tuple[float, float]], per_target: int, seed: int
) -> list[SyntheticSample]:
    """Frames of one person looking at each target ``per_target`` times, with small head movements between frames."""
    import numpy as np

    drawer = _renderer(renderer)
    rng = np.random.default_rng(seed)
    frames = []
    for target in targets:
        for _ in range(per_target):
            moved = drawer.jitter(person, rng)
            point = (target[0], target[1])
            frames.append(SyntheticSample(drawer.render(moved, point, rng), point, moved))
    return frames
