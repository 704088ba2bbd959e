"""The samples format, in one place: gaze samples as the page exports them, the collect server takes and stores them, and readers read them.

- ``schema``: format names and versions, field names, every limit and text rule;
- ``validate``: the one check of a sample row and of a session or export document;
- ``batch``: the check of a batch a page POSTs to ``gazesite collect`` (its rows and meta through ``validate``);
- ``upgrade``: the one upgrade of a version 1 row to version 2;
- ``io``: the public readers of sample files, JSON and CSV (``read_samples``, ``read_json``, ``read_csv``).

It depends on the standard library, ``gazesite.bounded`` and ``gazesite.errors`` only, so the page's
build, the collect server and the report can all import it.
"""

from gazesite.samples.io import read_samples

__all__ = ["read_samples"]
