"""The in-memory MNIST: real shapes, label counts and a batch iterator that keeps every image."""

import torch

from vaelab.data.mnist import DataMissingError, iterate_batches, load_mnist


def test_real_mnist_shapes_and_label_counts(mnist_root):
    train, test = load_mnist(mnist_root)
    assert train.images.shape == (60000, 28, 28) and train.images.dtype == torch.uint8
    assert test.images.shape == (10000, 28, 28)
    counts = torch.bincount(test.labels, minlength=10)
    assert counts[0] == 980 and counts[1] == 1135
    flat = test.flat_float()
    assert flat.shape == (10000, 784) and 0.0 <= flat.min() and flat.max() == 1.0


def test_batches_cover_every_image_once_including_last_partial_batch():
    x = torch.arange(10).float().unsqueeze(1)
    y = torch.arange(10)
    batches = list(iterate_batches(x, y, 4, torch.Generator().manual_seed(0)))
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    seen = torch.cat([b[1] for b in batches])
    assert sorted(seen.tolist()) == list(range(10)) and seen.tolist() != list(range(10))
    assert all(torch.equal(bx.squeeze(1).long(), by) for bx, by in batches)


def test_same_generator_seed_same_order():
    x, y = torch.rand(50, 3), torch.arange(50)
    first = [b[1] for b in iterate_batches(x, y, 8, torch.Generator().manual_seed(3))]
    second = [b[1] for b in iterate_batches(x, y, 8, torch.Generator().manual_seed(3))]
    assert all(torch.equal(a, b) for a, b in zip(first, second, strict=True))


def test_missing_data_names_the_stage(tmp_path):
    try:
        load_mnist(tmp_path)
    except DataMissingError as error:
        assert "dvc repro download" in str(error)
    else:
        raise AssertionError("expected DataMissingError")
