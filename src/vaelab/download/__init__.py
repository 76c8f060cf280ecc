"""The download stage: MNIST from the first source that yields verified files."""
