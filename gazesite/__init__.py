"""gazesite: build a static site that shows where people look on a web page."""

__version__ = "0.2.0"
