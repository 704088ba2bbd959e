"""Typed, frozen settings for each command; validation names every bad setting."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from gazesite.calibration.dots import MAX_POINTS, MIN_POINTS
from gazesite.data.faces import DEFAULT_RENDERERS, TRAINING_RENDERERS, renderer_problems
from gazesite.errors import ConfigError
from gazesite.site.opencv_js import DEFAULT_OPENCV, OPENCV_BUILDS
from gazesite.staging import BUILD_OUTPUT, CONVERSION_OUTPUT, MODEL_OUTPUT, out_problem

QUANTIZATIONS = ("none", "float16", "uint16", "uint8")


def parse_renderers(value: str) -> tuple[str, ...]:
    """Split a comma-separated --renderers value into names (blanks dropped)."""
    return tuple(name.strip() for name in value.split(",") if name.strip())


def synthetic_problems(renderers: tuple[str, ...]) -> list[str]:
    """One problem per renderer that synthetic training data must not use (--renderers)."""
    return [f"--renderers: {problem} (training renderers: {', '.join(TRAINING_RENDERERS)})" for problem in renderer_problems(renderers)]


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
        if problems:
            raise ConfigError(problems)
        return self


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


#: The TF.js backends the page can run, in the order "auto" tries them (wasm is fastest for a small CNN).
TFJS_BACKENDS = ("wasm", "webgl", "cpu")
BACKENDS = ("auto", *TFJS_BACKENDS)
_MAX_URL_LENGTH = 2048
#: A host a Content-Security-Policy source can name: Chromium refuses '_', non-ASCII and IPv6 literals there.
_CSP_HOST = re.compile(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.?")


def target_url_problem(url: str) -> str | None:
    """Return why ``url`` cannot be a build target, or None if it can."""
    if not url or len(url) > _MAX_URL_LENGTH:
        return f"must be an absolute http(s) URL of at most {_MAX_URL_LENGTH} characters"
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return "must not contain spaces or control characters"
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError for a malformed port
    except ValueError:
        return "is not a valid URL"
    if parts.scheme.lower() not in ("http", "https"):
        return "must be an absolute http:// or https:// URL"
    if not parts.hostname:
        return "must name a host, as in https://example.com/"
    if parts.username or parts.password:
        return "must not carry a user name or password"
    try:
        canonical_host(parts.hostname)
    except ValueError as exc:
        return f"host {parts.hostname!r} {exc}"
    return None


def canonical_host(host: str) -> str:
    """Return ``host`` as the page's CSP and the browser name it (an IDN in punycode); ValueError says why it cannot be."""
    import idna

    if ":" in host:  # urlsplit gives an IPv6 literal without its brackets
        raise ValueError(
            "is an IPv6 address, which Chromium does not accept in a Content-Security-Policy, so the page could never frame it: "
            "give a host name that resolves to it instead (for example one in /etc/hosts)"
        )
    try:
        if not host.isascii():  # UTS 46, non-transitional: what Chromium does with the same host
            host = idna.encode(host, uts46=True, transitional=False).decode("ascii")
        elif "xn--" in host.lower():  # already punycode: it must decode
            idna.decode(host)
    except UnicodeError as exc:  # idna.IDNAError, and the codec errors beneath it
        raise ValueError(f"is not a valid internationalised domain name ({exc})") from None
    if not _CSP_HOST.fullmatch(host):
        raise ValueError("cannot be named in a Content-Security-Policy: a host name has letters, digits, '-' and '.' only")
    return host


def canonical_target(url: str) -> str:
    """Return a valid target URL with its host as the browser sends it (punycode for an IDN), the rest unchanged."""
    parts = urlsplit(url)
    host = canonical_host(parts.hostname or "")
    if host == parts.hostname:
        return url
    return urlunsplit(parts._replace(netloc=host if parts.port is None else f"{host}:{parts.port}"))


@dataclass(frozen=True)
class BuildConfig:
    """Settings of ``gazesite build``."""

    target: str
    model: Path
    out: Path = Path("dist")
    quantize: str = "uint8"
    backend: str = "auto"
    smoothing: int = 5
    calibration_points: int = 9
    cache_dir: Path | None = None
    probe_target: bool = True
    snapshot: bool = False  # capture the URL at build time instead of framing it (study mode)
    widths: tuple[int, ...] | None = None  # snapshot (or site page image) widths; None: the default ones
    page_images: bool = True  # capture a site folder's pages at build time, for reports
    allow_private: bool = False  # let build-time Chromium reach private, loopback and link-local addresses
    study: str | None = None  # a name every sample export carries
    collect: str | None = None  # where consenting pages send their samples; None: nothing leaves the device
    consent: Path | None = None  # the consent notice (Markdown subset) shown before the camera starts
    opencv: str = DEFAULT_OPENCV  # which OpenCV.js ships: gazesite.site.opencv_js.OPENCV_BUILDS
    researcher_view: bool = False  # a study build shows the heatmap, dot and panel instead of the participant flow
    finish_url: str | None = None  # where the page sends a participant who has finished (pid= appended)
    task: str | None = None  # the task participants read before the page (Markdown subset)
    task_file: Path | None = None  # the same, from a file
    seconds: int | None = None  # a time limit on the page, after which the session ends

    def validate(self) -> BuildConfig:
        """Return self, or raise ConfigError listing every problem."""
        from gazesite.study.target import study_problems, target_kind

        problems = study_problems(self.target, self.snapshot, self.widths, self.study, self.out)
        if not self.page_images and target_kind(self.target) != "folder":
            problems.append(f"--no-page-images: only a site folder's pages are captured; --target {self.target} is not a folder")
        problem = target_url_problem(self.target) if target_kind(self.target) == "url" else None
        if problem:
            local = " (or an existing site folder, or a PNG/JPEG/WebP image)" if "://" not in self.target else ""
            problems.append(f"--target {self.target!r}: {problem}{local}")
        if not self.model.exists():
            problems.append(
                f"--model {self.model}: does not exist (expected a gazesite or TF.js model directory, a Keras .h5/.keras file or a SavedModel)"
            )
        if self.quantize not in QUANTIZATIONS:
            problems.append(f"--quantize {self.quantize!r}: expected one of {', '.join(QUANTIZATIONS)}")
        if self.backend not in BACKENDS:
            problems.append(f"--backend {self.backend!r}: expected one of {', '.join(BACKENDS)}")
        if self.opencv not in OPENCV_BUILDS:
            problems.append(f"--opencv {self.opencv!r}: expected one of {', '.join(OPENCV_BUILDS)}")
        if not 1 <= self.smoothing <= 120:
            problems.append(f"--smoothing {self.smoothing}: expected a window of 1 to 120 frames")
        if not MIN_POINTS <= self.calibration_points <= MAX_POINTS:
            problems.append(f"--calibration-points {self.calibration_points}: expected {MIN_POINTS} to {MAX_POINTS} points")
        if out := out_problem(self.out, BUILD_OUTPUT):
            problems.append(out)
        from gazesite.collect.page import collect_problems

        problems.extend(collect_problems(self.collect, self.consent))
        from gazesite.study.participant import participant_problems

        problems.extend(participant_problems(self.collect, self.researcher_view, self.finish_url, self.task, self.task_file, self.seconds))
        if problems:
            raise ConfigError(problems)
        return self


def accuracy_points(text: str) -> tuple[int, ...]:
    """Parse --points ("5,9,13"); raise ConfigError naming the bad value."""
    try:
        points = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise ConfigError([f"--points {text!r}: expected dot counts separated by commas, as in 5,9,13"]) from None
    bad = [p for p in points if not MIN_POINTS <= p <= MAX_POINTS]
    if bad or not points:
        raise ConfigError([f"--points {text!r}: each dot count must be {MIN_POINTS} to {MAX_POINTS}"])
    return points
