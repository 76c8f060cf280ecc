"""Evaluation: every checkpoint's held-out metrics, in nats and confidence ratios."""
