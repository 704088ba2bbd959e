"""The face pipeline: camera frame → face box → model crop and eye band (twin of assets/app/track/)."""
