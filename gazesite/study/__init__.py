"""Study mode: gaze on a page's content (snapshots of any URL, same-origin local sites); the samples format itself is gazesite.samples."""
