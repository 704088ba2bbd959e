"""Settings of ``gazesite build``, and the choices its options offer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gazesite.calibration.dots import MAX_POINTS, MIN_POINTS
from gazesite.errors import ConfigError
from gazesite.model.settings import QUANTIZATIONS
from gazesite.site.opencv_js import DEFAULT_OPENCV, OPENCV_BUILDS
from gazesite.staging import BUILD_OUTPUT, out_problem
from gazesite.urls import target_url_problem

#: The TF.js backends the page can run, in the order "auto" tries them (wasm is fastest for a small CNN).
TFJS_BACKENDS = ("wasm", "webgl", "cpu")
BACKENDS = ("auto", *TFJS_BACKENDS)


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
        # Here, not at the top: the study modules load numpy and image code, and 'gazesite build --help' needs neither.
        from gazesite.collect.page import collect_problems
        from gazesite.study.participant import participant_problems
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
        problems.extend(collect_problems(self.collect, self.consent))
        problems.extend(participant_problems(self.collect, self.researcher_view, self.finish_url, self.task, self.task_file, self.seconds))
        if problems:
            raise ConfigError(problems)
        return self
