"""Training: the written-out step, the epoch loop, and one run of a model from params."""
