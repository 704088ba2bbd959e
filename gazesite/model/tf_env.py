"""Import TensorFlow once, with gazesite's settings and without its start-up noise.

TensorFlow's CPU wheels print a dozen lines about CUDA plugins straight to
file descriptor 2 while they load; users would see them above every message,
including one-line errors. They go to the debug log instead.
"""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from typing import Any

log = logging.getLogger(__name__)

# TensorFlow.js 4.22 cannot load Keras 3 models, so gazesite builds and reads
# models with tf_keras (the Keras 2 API); this must be set before TF imports.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# tensorflowjs imports decision forests, whose welcome banner imports IPython
# whenever stdout is not a terminal (pipes, CI, pytest).
os.environ.setdefault("TFDF_DISABLE_WELCOME_MESSAGE", "1")
# HDF5 is chosen on purpose: both tf_keras and the TF.js converter read it.
warnings.filterwarnings("ignore", message="You are saving your model as an HDF5 file", category=UserWarning)
# tensorflowjs -> tensorflow_hub still imports pkg_resources (hence setuptools<81).
warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)


def import_keras() -> Any:
    """Return the ``tf_keras`` module, importing TensorFlow first with its native log silenced.

    Typed Any: tf_keras ships no type information, and mypy accepts a base class
    read from a module (``keras.callbacks.Callback``) only when the module is Any.
    """
    import sys

    if "tf_keras" in sys.modules:
        return sys.modules["tf_keras"]
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow  # noqa: F401
            import tf_keras
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        captured.seek(0)
        noise = captured.read().decode(errors="replace").strip()
    if noise:
        log.debug("TensorFlow start-up output:\n%s", noise)
    # TensorFlow's Python logger warns about things gazesite does on purpose,
    # such as reloading a converted model without compiling metrics.
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    return tf_keras
