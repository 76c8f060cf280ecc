"""`make bench`: how fast training and the pipeline run, as ratios measured on this machine."""
