"""``gazesite build``: validate, gather, render, then write ``dist/`` in one swap.

The stages read top to bottom. Nothing touches the output folder until every
input has been gathered and the page rendered; the new site is written into
a temporary folder beside it and swapped in, so a failed build leaves the
previous ``dist/`` exactly as it was.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import gazesite
from gazesite.calibration.dots import MARGIN as DOT_MARGIN
from gazesite.calibration.dots import calibration_layout, check_layout
from gazesite.calibration.settings import POOR_ERROR, maths_settings
from gazesite.collect.page import collect_settings, consent_html
from gazesite.data.dataset import FORMAT_NAME as DATASET_FORMAT_NAME
from gazesite.data.dataset import FORMAT_VERSION as DATASET_FORMAT_VERSION
from gazesite.model import TFJS_MODEL_FILE
from gazesite.model.tfjs import check_tfjs_model, gazesite_metadata, read_model_json, tfjs_input_shape
from gazesite.samples.schema import SAMPLE_FORMAT
from gazesite.site.gather import APP_DIR, gather_app, gather_model, model_hash
from gazesite.site.notices import LEAN_PACKAGE, NOTICES_FILE, notices_text
from gazesite.site.opencv_js import opencv_summary
from gazesite.site.probe import FrameCheck, probe_target
from gazesite.site.render import content_security_policy, render_page
from gazesite.site.settings import TFJS_BACKENDS, BuildConfig
from gazesite.site.vendor import VENDOR_FILES, VendoredFile, gather_vendor
from gazesite.staging import BUILD_MANIFEST, staged_directory
from gazesite.study.participant import participant_settings, task_html
from gazesite.study.target import CaptureSettings, gather_study, refusal_hint, target_kind
from gazesite.track.pipeline import cascade_path, pipeline_constants, spec_for_input_shape
from gazesite.urls import canonical_target, origin_of

log = logging.getLogger(__name__)

#: How the page's calibration paces each point: wait for the eyes to settle
#: on a new dot, then collect frames; a few extra points only validate the fit.
#: poorError: calibration/settings.py::POOR_ERROR.
CALIBRATION_TIMING = {"settleMs": 800, "collectMs": 900, "validationPoints": 4, "recordSeconds": 30, "poorError": POOR_ERROR}


@dataclass
class SiteFiles:
    """Everything the site will contain, gathered before anything is written."""

    copies: dict[str, Path] = field(default_factory=dict)  # dist-relative path -> source file
    texts: dict[str, str] = field(default_factory=dict)  # dist-relative path -> content
    blobs: dict[str, bytes] = field(default_factory=dict)  # dist-relative path -> bytes made by the build (snapshots)


def build(config: BuildConfig) -> Path:
    """Build the static site described by ``config`` and return its folder."""
    # The host as the browser and the CSP name it (punycode), in every place the target appears.
    config = config.validate()
    if target_kind(config.target) == "url":
        config = replace(config, target=canonical_target(config.target))
    capture = CaptureSettings(config.widths, config.page_images, config.allow_private)
    study = gather_study(config.target, config.snapshot, config.study, capture)  # snapshot, image or local site
    framed = study.mode == "frame"
    frame_check = probe_target(config.target) if config.probe_target and framed else FrameCheck(None, "not checked")
    if frame_check.frameable is False:
        log.warning("%s refuses to be framed: %s; the page will say so; %s", config.target, frame_check.reason, refusal_hint(config.target))
    # The CSP's frame-src: the target's origins, the page's own (same-origin site), or nothing at all (snapshot).
    frame_origins = (
        [origin_of(url) for url in (config.target, *frame_check.redirects)] if framed else ["'self'" if study.frame_src else "'none'"]
    )
    if frame_check.redirects:
        log.info(
            "%s redirects to %s (%s); the page may frame %s",
            config.target,
            frame_check.final_url,
            " -> ".join((config.target, *frame_check.redirects)),
            " ".join(dict.fromkeys(frame_origins)),
        )

    files = SiteFiles()
    model_dir = gather_model(config)
    model_files = check_tfjs_model(model_dir)  # exactly what model.json lists, all inside the folder
    model_json = read_model_json(model_dir)
    for name, source in model_files.items():
        files.copies[f"model/{name}"] = source
    files.copies[f"cascade/{cascade_path().name}"] = cascade_path()
    vendor = gather_vendor(opencv=config.opencv)
    for item in vendor:
        files.copies[f"vendor/{item.name}"] = item.source
    packages = {spec.key: spec.package for spec in VENDOR_FILES} | ({"opencv": LEAN_PACKAGE} if config.opencv == "lean" else {})
    files.texts[NOTICES_FILE] = notices_text(vendor, packages, f"cascade/{cascade_path().name}")
    app_files = gather_app()
    files.copies.update(app_files)
    files.copies.update(study.copies)
    files.blobs.update(study.blobs)

    page_config = page_settings(config, model_files, model_json, vendor, frame_check)
    if not framed:  # a local target's path never reaches the page, only its name
        page_config.update(target=study.label, targetOrigin=None)
    page_config["study"] = study.settings
    files.texts["index.html"] = render_page(
        {
            "config": page_config,
            "title": f"gazesite: {study.label}",
            "target": study.label,
            "frame_src": study.frame_src,
            "csp": content_security_policy(frame_origins, [page_config["collect"]["origin"]] if config.collect else []),
            # The consent notice, rendered from escaped text only (gazesite/collect/page.py); None: no collection.
            "consent": consent_html(config.collect, config.consent) if config.collect else None,
            # The task shown before the page (same Markdown subset, escaped); None: no task.
            "task": task_html(config.task, config.task_file),
            "scripts": [{"src": f"vendor/{v.name}", "integrity": v.integrity} for v in vendor if v.name.endswith(".js")],
            "app_script": {"src": f"{APP_DIR}/main.js", "integrity": integrity_of(app_files[f"{APP_DIR}/main.js"])},
            # The modules main.js imports get their integrity through modulepreload.
            "app_modules": [
                {"href": name, "integrity": integrity_of(path)}
                for name, path in app_files.items()
                if name.endswith(".js") and name != f"{APP_DIR}/main.js"
            ],
            "stylesheet": {"href": f"{APP_DIR}/gazesite.css", "integrity": integrity_of(app_files[f"{APP_DIR}/gazesite.css"])},
        }
    )
    record = {**manifest(config, files, frame_check, vendor), "study": study.report}
    if not framed:
        record["target"] = study.label
    files.texts[BUILD_MANIFEST] = json.dumps(record, indent=2, sort_keys=True) + "\n"

    write_site(files, config.out)
    log.info(
        "built %s for %s in %s mode (%d files)",
        config.out,
        study.label,
        study.mode,
        len(files.copies) + len(files.texts) + len(files.blobs),
    )
    return config.out


def page_settings(
    config: BuildConfig, model_files: dict[str, Path], model_json: dict[str, Any], vendor: list[VendoredFile], frame_check: FrameCheck
) -> dict[str, Any]:
    """Return the settings the page's JavaScript reads, the single source for both sides."""
    meta = gazesite_metadata(model_json)
    by_key = {v.key: f"vendor/{v.name}" for v in vendor}
    return {
        "version": gazesite.__version__,
        "target": config.target,
        "targetOrigin": origin_of(config.target),
        "frameable": frame_check.frameable,
        "frameReason": frame_check.reason,
        "backend": config.backend,
        "backends": list(TFJS_BACKENDS),
        "smoothing": config.smoothing,
        "calibration": {
            **CALIBRATION_TIMING,
            "points": config.calibration_points,
            "layout": calibration_layout(config.calibration_points),
            "checkLayout": check_layout(int(CALIBRATION_TIMING["validationPoints"]), calibration_layout(config.calibration_points)),
            "margin": DOT_MARGIN,
            "maths": maths_settings(),
        },
        "pipeline": pipeline_constants(spec_for_input_shape(tfjs_input_shape(model_json))),
        "model": {
            "url": f"model/{TFJS_MODEL_FILE}",
            "quantization": meta.get("quantization", config.quantize),
            "inputShape": list(tfjs_input_shape(model_json)),
            # Names the exact weights, so a calibration stored for one model is never applied to another.
            "hash": model_hash(model_files),
        },
        "cascade": {"url": f"cascade/{cascade_path().name}", "file": cascade_path().name},
        "wasmPaths": {
            "tfjs-backend-wasm.wasm": by_key["tfjs-backend-wasm.wasm"],
            "tfjs-backend-wasm-simd.wasm": by_key["tfjs-backend-wasm-simd.wasm"],
            # setWasmPaths insists on this key, but the page turns multithreading
            # off (no cross-origin isolation), so the binary is never fetched.
            "tfjs-backend-wasm-threaded-simd.wasm": by_key["tfjs-backend-wasm-simd.wasm"],
        },
        "sampleFormat": SAMPLE_FORMAT,
        # Where consenting visitors' samples go (None: nothing leaves the device).
        "collect": collect_settings(config.collect, config.study),
        # What participants of a study build see (flow false: the researcher view).
        "participant": participant_settings(config.collect, config.researcher_view, config.finish_url, config.seconds),
        # The page writes calibration and recording crops in the same format `gazesite train --data` reads.
        "datasetFormat": {"name": DATASET_FORMAT_NAME, "version": DATASET_FORMAT_VERSION},
    }


def integrity_of(path: Path) -> str:
    """Return the SRI hash of a file."""
    from gazesite.site.vendor import subresource_integrity

    return subresource_integrity(path.read_bytes())


def manifest(config: BuildConfig, files: SiteFiles, frame_check: FrameCheck, vendor: list[VendoredFile]) -> dict[str, Any]:
    """Describe the build: inputs and every file's size and hash."""
    entries = {}
    for name, source in files.copies.items():
        data = source.read_bytes()
        entries[name] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    for name, data in [*((n, t.encode()) for n, t in files.texts.items()), *files.blobs.items()]:
        entries[name] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    return {
        "gazesite": gazesite.__version__,
        "target": config.target,
        "redirects": list(frame_check.redirects),
        "final_url": frame_check.final_url,
        "frameable": frame_check.frameable,
        "quantize": config.quantize,
        "backend": config.backend,
        "collect": canonical_target(config.collect) if config.collect else None,
        "participant": {
            "view": "researcher" if config.researcher_view or not config.collect else "participant",
            "finish_url": config.finish_url,
            "seconds": config.seconds,
            "task": config.task is not None or config.task_file is not None,
        },
        "opencv": opencv_summary(config.opencv, next(v for v in vendor if v.key == "opencv")),
        "files": dict(sorted(entries.items())),
    }


def write_site(files: SiteFiles, out: Path) -> None:
    """Write every file into a temporary folder beside ``out``, then swap it in."""
    with staged_directory(out) as staging:
        for name, source in files.copies.items():
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        for name, text in files.texts.items():
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        for name, data in files.blobs.items():
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
