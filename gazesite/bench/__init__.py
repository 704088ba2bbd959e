"""Benchmarks: speed and accuracy of the built page in Chromium, against Python and peers."""
