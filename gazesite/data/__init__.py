"""Training data: the dataset format and synthetic faces to fill it."""
