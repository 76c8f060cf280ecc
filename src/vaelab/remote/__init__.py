"""Sharing results through a DVC remote: a usable-remote check with one-line errors, push and
pull that run it first (`python -m vaelab.remote`), and a local S3 store for tests and bench."""
