"""The licence notices a built site carries: gazesite's own code and every third-party file it ships."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import gazesite
from gazesite.errors import GazesiteError
from gazesite.paths import assets_dir, data_root
from gazesite.site.vendor import VendoredFile

#: Where a built site keeps its notices.
NOTICES_FILE = "NOTICES.txt"


@dataclass(frozen=True)
class Licence:
    """Who made a shipped component and under which licence (the text is in assets/licenses/)."""

    title: str
    spdx: str
    copyright: str
    text: str  # file in assets/licenses/


_APACHE = "Apache-2.0.txt"
#: How notices name the lean OpenCV.js, which comes from no npm package.
LEAN_PACKAGE = "opencv (assets/opencv)"
#: Every npm package whose files a site may ship. A vendored package missing here stops the build:
#: shipping a file without its notice is not an option.
PACKAGE_LICENCES = {
    "@tensorflow/tfjs": Licence("TensorFlow.js", "Apache-2.0", "Copyright 2018 Google LLC", _APACHE),
    "@tensorflow/tfjs-backend-wasm": Licence("TensorFlow.js WebAssembly backend", "Apache-2.0", "Copyright 2019 Google LLC", _APACHE),
    "@techstark/opencv-js": Licence("OpenCV.js", "Apache-2.0", "Copyright (C) 2000-2025, OpenCV team and contributors", _APACHE),
    # The lean OpenCV.js: OpenCV's own sources compiled by `make opencv-js` (assets/opencv/manifest.json).
    LEAN_PACKAGE: Licence(
        "OpenCV.js, lean build of OpenCV's sources", "Apache-2.0", "Copyright (C) 2000-2025, OpenCV team and contributors", _APACHE
    ),
    "heatmap.js": Licence("heatmap.js", "MIT", "Copyright (c) 2015 Patrick Wied", "heatmap.js.txt"),
    "stats.js": Licence("stats.js", "MIT", "Copyright (c) 2009-2016 stats.js authors", "stats.js.txt"),
}
#: The face detector's cascade carries its licence (the Intel License Agreement for OpenCV) in its own header.
CASCADE_NOTICE = (
    "OpenCV's frontal face Haar cascade (Rainer Lienhart), Intel License Agreement For Open Source Computer Vision "
    "Library, Copyright (C) 2000, Intel Corporation; the full licence text is the header of the file itself."
)


def notices_text(vendor: list[VendoredFile], packages: dict[str, str], cascade: str) -> str:
    """The NOTICES.txt of a site: what each shipped file is, its licence, then every licence text once.

    ``packages`` maps a vendored file's key to its npm package; ``cascade`` is the cascade's path in the site.
    """
    lines = [
        f"Notices for a site built by gazesite {gazesite.__version__}",
        "",
        "index.html, app/ and model/ come from gazesite: MIT License (full text below).",
        "",
        "Third-party files:",
    ]
    texts = {"gazesite (MIT License)": (data_root() / "LICENSE").read_text()}
    for item in vendor:
        package = packages[item.key]
        licence = PACKAGE_LICENCES.get(package)
        if licence is None:
            raise GazesiteError(
                f"vendored package {package} has no licence notice in gazesite.site.notices: add it before shipping its files"
            )
        lines.append(f"- vendor/{item.name}: {licence.title} ({package} {item.version}), {licence.spdx}, {licence.copyright}")
        texts.setdefault(f"{licence.spdx} ({licence.text})", licence_text(licence.text))
    lines += [f"- {cascade}: {CASCADE_NOTICE}", ""]
    for title, text in texts.items():
        lines += ["=" * 78, title, "=" * 78, text.rstrip(), ""]
    return "\n".join(lines)


def licence_text(name: str) -> str:
    """A licence text shipped in assets/licenses/."""
    path: Path = assets_dir() / "licenses" / name
    if not path.is_file():
        raise GazesiteError(f"assets/licenses/{name} is missing from the gazesite installation: reinstall gazesite")
    return path.read_text()
