"""Study mode: gaze on a page's content (snapshots of any URL, same-origin local sites) and samples version 2."""

import re

#: How the page shows its target: a cross-origin iframe, a captured snapshot, or a copied local site framed from the page's origin.
MODES = ("frame", "snapshot", "same-origin")
#: The CSV columns of samples version 1, and version 2's after them (so a version 1 reader finds its own in place).
CSV_V1 = (
    "t",
    "x",
    "y",
    "viewport_width",
    "viewport_height",
    "face_x",
    "face_y",
    "face_w",
    "face_h",
    "scroll_x",
    "scroll_y",
    "dpr",
    "source",
)
CSV_V2 = (*CSV_V1, "raw_x", "raw_y", "doc_x", "doc_y", "page", "element")
#: A session id as the page makes it (assets/app/study/session.js) and readers accept it.
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
#: The sample export format the page writes (samples version 2, README "Samples"); the page reads its CSV columns from here.
SAMPLE_FORMAT = {"name": "gazesite-samples", "version": 2, "columns": list(CSV_V2)}
