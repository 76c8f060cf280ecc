"""MNIST as the stages read it: what the files are, and how to load them into tensors."""
