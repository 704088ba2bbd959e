"""Study mode: gaze on a page's content (snapshots of any URL, same-origin local sites) and samples version 2."""

#: How the page shows its target: a cross-origin iframe, a captured snapshot, or a copied local site framed from the page's origin.
MODES = ("frame", "snapshot", "same-origin")
#: The sample export format the page writes (samples version 2, README "Samples").
SAMPLE_FORMAT = {"name": "gazesite-samples", "version": 2}
