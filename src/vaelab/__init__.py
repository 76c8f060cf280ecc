"""vaelab: autoencoders, VAEs and β-VAEs on MNIST, as a reproducible DVC study."""
