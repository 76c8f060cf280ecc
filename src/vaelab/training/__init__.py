"""Training: the written-out stacked step, the epoch loops, and the runs of models from params."""
