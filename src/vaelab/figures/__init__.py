"""The figures stage: the study's figures 2–14 and two beyond it, from checkpoints and metrics."""
