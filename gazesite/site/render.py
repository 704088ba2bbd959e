"""Render the page from jinja2 templates: autoescaped, strict, deterministic."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jinja2

from gazesite.paths import templates_dir

PAGE_TEMPLATE = "index.html.j2"


def content_security_policy(frame_origins: list[str], connect_origins: Sequence[str] = ()) -> str:
    """Return the page's CSP: its own files only, frames from the target's origins only, and connections to
    ``connect_origins`` only (the --collect server's, when the build collects)."""
    directives = {
        "default-src": "'none'",
        # wasm-unsafe-eval: tf.js and OpenCV.js compile WebAssembly. unsafe-eval:
        # tf.min.js's bundled regenerator runtime calls Function() as it loads,
        # and OpenCV.js's generated bindings build every wrapper with new Function().
        # Both only evaluate code that ships in those same-origin files.
        "script-src": "'self' 'wasm-unsafe-eval' 'unsafe-eval'",
        # data: lets OpenCV.js fetch() the wasm embedded in its own file as a
        # data: URL (it reaches no network); blocked, it logs errors and falls back.
        "connect-src": " ".join(["'self'", "data:", *connect_origins]),
        "img-src": "'self' data: blob:",
        "style-src": "'self'",
        "media-src": "'self' blob: mediastream:",
        "worker-src": "'self' blob:",
        # Every origin the target passes through: a browser checks frame-src at each redirect.
        "frame-src": " ".join(dict.fromkeys(frame_origins)),
        "base-uri": "'none'",
        "form-action": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def environment() -> jinja2.Environment:
    """Return the template environment: HTML autoescaping on, undefined names are errors."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_page(context: dict[str, Any]) -> str:
    """Render index.html; every value passes through the template engine's escaping."""
    return environment().get_template(PAGE_TEMPLATE).render(**context)
