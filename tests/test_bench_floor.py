"""The pipeline's arithmetic floor: each count checked against what torch really multiplies
(FlopCounterMode), and the pipeline's sum against a count by hand."""

import pytest
import torch
import yaml
from torch.utils.flop_counter import FlopCounterMode

from vaelab.bench import floor
from vaelab.core import objectives, params
from vaelab.core.models import Classifier, build_autoencoder
from vaelab.evaluation.evaluate import build_reference, evaluate_checkpoint

EVAL_P = params.EvalParams(
    seed=1,
    batch_size=2000,
    iwae_k=3,
    n_prior_samples=50,
    shifted_mean=1.0,
    shifted_std=0.5,
    fid_reference_size=20,
    active_unit_threshold=0.01,
)


def test_a_classifier_step_is_what_autograd_multiplies():
    classifier, batch = Classifier([32, 16], 0.2), 8
    products = [784 * 32, 32 * 16, 16 * 10]
    assert floor.classifier_training_flops(classifier) == 4 * sum(products) + 2 * sum(products[1:])
    x, y = torch.rand(batch, 784), torch.randint(0, 10, (batch,))
    with FlopCounterMode(display=False) as counted:
        torch.nn.functional.cross_entropy(classifier(x), y).backward()
    assert counted.get_total_flops() == batch * floor.classifier_training_flops(classifier)


@pytest.mark.parametrize("kind", ["ae", "vae"])
def test_one_checkpoints_evaluation_is_what_its_networks_multiply(kind):
    torch.manual_seed(0)
    classifiers = tuple(Classifier([32, 16], 0.0) for _ in range(2))
    ref = build_reference(
        classifiers, torch.rand(100, 784), torch.rand(floor.TEST_IMAGES, 784), EVAL_P
    )
    model = build_autoencoder(kind, [64, 16, 8], 2)
    likelihood = objectives.Likelihood("gaussian", 0.5)
    beta = 1.0 if kind == "vae" else None
    with FlopCounterMode(display=False) as counted:
        evaluate_checkpoint(model, beta, ref, likelihood, EVAL_P, torch.Generator().manual_seed(0))
    # The top-level modules are the model's encoder and decoder and the classifiers' parts;
    # "Global" also holds the covariances of the Fréchet distances, which the floor leaves out.
    by_module = counted.get_flop_counts()
    networks = sum(sum(ops.values()) for name, ops in by_module.items() if "." not in name)
    networks -= sum(by_module["Global"].values())
    assert networks == floor.evaluation_flops(model, classifiers[0], EVAL_P, len(classifiers))
    assert 0 < sum(by_module["Global"].values()) - networks < 0.01 * networks


def one_setup_params(tmp_path):
    raw = yaml.safe_load(open("params.yaml"))
    raw["train"] |= {"seeds": [1, 2], "extra_seed_setups": [], "more_seed_setups": []}
    raw["setups"] = {"study": raw["setups"]["study"]}
    raw["vae"]["betas"] = [0, 1, 5]
    raw["figures"] |= {"betas": [0, 1], "pair_betas": [0, 1], "curve_betas": [0, 1]}
    raw["figures"] |= {"example_beta": 1, "shifted_betas": [0, 5]}
    raw["classifier"]["seeds"] = [7]
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path, raw


def test_the_pipelines_training_steps_by_hand(tmp_path):
    path, raw = one_setup_params(tmp_path)
    epochs = max(raw["train"]["checkpoints"])
    # 2 seeds × (AE + 3 β) models, each epochs × 60 000 images × 515 872 FLOPs (test_bench_flops)
    assert floor.pipeline_flops(path)["training"] == 2 * 4 * epochs * 60_000 * 515_872
    hidden = raw["classifier"]["hidden"]
    products = [784 * hidden[0], hidden[0] * hidden[1], hidden[1] * 10]
    step = 4 * sum(products) + 2 * sum(products[1:])
    expected = raw["classifier"]["epochs"] * 60_000 * step
    assert floor.pipeline_flops(path)["classifiers"] == expected


def test_each_part_scales_with_what_it_repeats(tmp_path):
    path, raw = one_setup_params(tmp_path)
    before = floor.pipeline_flops(path)
    raw["train"]["seeds"] = [1, 2, 3, 4]
    path.write_text(yaml.safe_dump(raw))
    after = floor.pipeline_flops(path)
    assert after["training"] == 2 * before["training"]
    assert after["test_passes"] > before["test_passes"]  # the classifier's stay
    assert before["evaluation"] < after["evaluation"] < 2 * before["evaluation"]  # references


def test_least_seconds_and_the_bench_rows():
    flops = {"training": 3e12, "evaluation": 1e12}
    assert floor.least_seconds(flops, 100.0) == {
        "training": 30.0,
        "evaluation": 10.0,
        "total": 40.0,
    }
    result = {"peak_machine_gflops_max": 200.0, "peak_machine_gflops_min": 100.0}
    rows = floor.bench_rows(result)
    assert rows["floor_seconds_at_peak_min"] == pytest.approx(
        2 * rows["floor_seconds_at_peak_max"]
    )
    assert "pipeline_training_share_of_peak_low" not in rows  # no split measured yet
    total = sum(floor.pipeline_flops().values())
    result |= {"pipeline_training_seconds": 1000.0, "pipeline_evaluation_seconds": 100.0}
    rows = floor.bench_rows(result)
    flops = floor.pipeline_flops()
    low = (flops["training"] + flops["classifiers"]) / 1000.0 / 200e9
    assert rows["pipeline_training_share_of_peak_low"] == pytest.approx(low)
    assert rows["pipeline_evaluation_share_of_peak_high"] == pytest.approx(
        flops["evaluation"] / 100.0 / 100e9
    )
    assert rows["floor_seconds_at_peak_max"] == pytest.approx(total / 200e9)


def test_the_command_names_a_missing_peak(capsys):
    with pytest.raises(SystemExit):
        floor.main(["params.yaml"])
    assert "--peak" in capsys.readouterr().err
    assert floor.main(["--peak", "100", "params.yaml"]) == 0
    out = capsys.readouterr().out
    assert "training" in out and "evaluation" in out and "study" in out
