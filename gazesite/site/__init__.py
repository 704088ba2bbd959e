"""The build path: validate → gather (model, vendored files, app) → render → write dist/."""
