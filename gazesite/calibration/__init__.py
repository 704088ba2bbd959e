"""Per-person calibration: map one person's frames to where they look, chosen per person by cross-validation.

The Python twin of ``assets/app/calibration/``: the same candidates, the same
penalties, the same leave-one-dot-out choice, written function for function
in the same shape, so tests can hold the browser to it (same inputs, same
mapping within 1e-6) and reports can recalibrate sessions offline.

- ``settings``: every constant, once (the page reads them from the build);
- ``dots``: where the calibration and check dots go;
- ``eyes``: the eye band registered to the person's own eyes;
- ``ridge``: ridge regression, primal and dual, with leave-one-dot-out errors;
- ``choose``: the candidates and the per-person choice.

Points are fractions of the screen, (0, 0) top-left. Importing this package
imports nothing heavy; import the module you need.
"""
