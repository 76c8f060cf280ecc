"""MNIST: what the files are, how to get them verified, and how to load them into tensors."""
