"""params.yaml validation: every bad value names the file, the key, the value and the rule."""

import re

import pytest
import yaml

from vaelab.core import params
from vaelab.core.names import train_target

REPO_PARAMS = params.DEFAULT_PATH


def repo_params() -> dict:
    return yaml.safe_load(REPO_PARAMS.read_text())


def test_repo_params_load_and_epochs_come_from_checkpoints():
    train, vae = params.load("train", "vae")
    assert train.epochs == train.checkpoints[-1]
    assert all(beta >= 0 for beta in vae.betas)


def test_every_figures_beta_is_trained():
    figures, vae = params.load("figures", "vae")
    assert set(figures.all_betas()) <= set(vae.betas)


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        (
            "data",
            "sources",
            ["local", "ftp"],
            "params.yaml: data.sources[1] = 'ftp'; expected one of local, torchvision, pypi",
        ),
        ("train", "checkpoints", [1, 5, 30, 20], "train.checkpoints = [1, 5, 30, 20]"),
        ("vae", "betas", [0, -1], "vae.betas[1] = -1.0; expected a value ≥ 0"),
        ("model", "latent_dim", 0, "model.latent_dim = 0; expected a value > 0"),
        ("model", "likelihood", "poisson", "expected one of gaussian, bernoulli"),
        ("model", "latent", "gamma", "model.latent = 'gamma'; expected one of normal, laplace,"),
        ("model", "prior_std", 0, "model.prior_std = 0.0; expected a value > 0"),
        ("train", "lr", "fast", "train.lr = 'fast'; expected a float"),
        ("train", "batch_size", True, "train.batch_size = True; expected a int"),
        ("model", "hidden", 256, "model.hidden = 256; expected a list of int"),
        ("model", "colour", 1, "model.colour: unknown key"),
        ("train", "device", "auto", "train.device = 'auto'; expected one of cpu, cuda"),
        ("train", "threads", 0, "train.threads = 0; expected a value ≥ 1"),
        ("vae", "betas", [0, 5.0], "vae.betas[1] = 5.0; write a whole β as an integer (5)"),
        ("explorer", "autoencoder", "yes", "explorer.autoencoder = 'yes'; expected a bool"),
        ("explorer", "interpolate", [3], "explorer.interpolate = [3]; expected two test-set"),
        ("explorer", "betas", [5, 2], "explorer.betas offers [2.0] but vae.betas = "),
        ("explorer", "checkpoints", [1, 15], "explorer.checkpoints offers [15] but train."),
        ("train", "seeds", [42, 43, 42], "train.seeds = [42, 43, 42]; expected each seed at"),
        ("train", "seeds", [], "train.seeds = []; expected list at least one seed"),
        ("classifier", "seeds", [], "classifier.seeds = []; expected list at least one seed"),
        ("figures", "betas", [0, 3], "figures draw β = [3.0] but vae.betas = "),
        ("explorer", "setup", "mine", "explorer.setup = 'mine'; expected one of the setups"),
    ],
)
def test_bad_values_are_named(tmp_path, section, key, value, message):
    raw = repo_params()
    raw[section][key] = value
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(params.ParamsError) as error:
        params.load(section, path=path)
    assert message.replace("params.yaml", str(path)) in str(error.value)


def test_missing_key_and_unknown_section(tmp_path):
    raw = repo_params()
    del raw["train"]["lr"]
    raw["optimiser"] = {"name": "sgd"}
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(params.ParamsError, match="optimiser: unknown section"):
        params.load("train", path=path)
    del raw["optimiser"]
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(params.ParamsError, match="train.lr: missing"):
        params.load("train", path=path)


def test_sections_are_frozen():
    train = params.load("train")
    with pytest.raises(AttributeError):
        train.lr = 1.0


def test_beta_with_a_fraction_is_accepted(tmp_path):
    raw = repo_params()
    raw["vae"]["betas"] = [*raw["vae"]["betas"], 0.5]
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw))
    assert 0.5 in params.load("vae", path=path).betas


def test_malformed_yaml_names_the_file_and_line(tmp_path):
    path = tmp_path / "params.yaml"
    lines = REPO_PARAMS.read_text().splitlines()
    lines[5] = "  sources: [local, pypi"  # an unclosed list
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(params.ParamsError) as error:
        params.load("train", path=path)
    message = str(error.value)
    assert message.startswith(f"{path}, line ") and "not valid YAML" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        ("figures", "betas", [0, 1, 7], "figures draw β = [7.0] but vae.betas"),
        ("figures", "curve_betas", [1], "figures.curve_betas = [1.0]; expected at least 2 β"),
        ("model", "latent_dim", 1, "model.latent_dim = 1; the figures draw a latent plane"),
    ],
)
def test_rules_across_sections_fail_whichever_section_is_loaded(
    tmp_path, section, key, value, message
):
    """A training stage must not start for figures that could never be drawn."""
    raw = repo_params()
    raw[section][key] = value
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(params.ParamsError, match=re.escape(message)):
        params.load("train", path=path)


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ({"model": {"hiden": [8]}}, "setups.study.model.hiden: unknown key; a setup overrides"),
        ({"train": {"seeds": [1]}}, "setups.study.train.seeds: every setup shares train.seeds"),
        ({"optimiser": {}}, "setups.study.optimiser: a setup overrides only model and train"),
        ({"train": {"batch_size": 0}}, "setups.study.train.batch_size = 0; expected a value > 0"),
        ({"model": {"sampling": "log_std"}}, "setups.study.model.sampling = 'log_std'"),
        ({"model": {"latent": "cauchy"}}, "setups.study.model.latent = 'cauchy'; expected one"),
        ({"model": {"prior_std": -1}}, "setups.study.model.prior_std = -1.0; expected a value >"),
    ],
)
def test_bad_setups_are_named_before_any_stage_runs(tmp_path, setup, message):
    """Whichever section a stage loads, a bad setup stops it with the key and the fix."""
    raw = repo_params()
    raw["setups"]["study"] = setup
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(params.ParamsError) as error:
        params.load("data", path=path)
    assert message in str(error.value)


def test_a_setup_overrides_only_what_it_names():
    setups, model, train = params.load("setups", "model", "train")
    study, wide = setups["study"], setups["wide"]
    assert (study.model.hidden, study.train.batch_size) == ((64, 16, 8), 16)
    assert study.model.sampling == "log_sigma" and study.model.init == "glorot_uniform"
    assert study.train.checkpoints == train.checkpoints
    assert (wide.model, wide.train) == (model, train)


def test_the_setups_seed_tiers_take_their_seeds_on_top_of_every_setups_seeds():
    setups, train = params.load("setups", "train")
    study, wide = setups["study"], setups["wide"]
    assert train.extra_seed_setups == ("study",) and train.more_seed_setups == ("study",)
    assert study.train.seeds == (*train.seeds, *train.extra_seeds, *train.more_seeds)
    assert wide.train.seeds == train.seeds
    tiers = {**{s: "extra" for s in train.extra_seeds}, **{s: "more" for s in train.more_seeds}}
    assert [run.tier for run in study.runs] == [tiers.get(s, "") for s in study.train.seeds]
    assert not any(run.tier for run in wide.runs)
    last, extra = study.runs[-1], study.runs[len(train.seeds)]
    assert train_target(5.0, last) == f"train_vae_more@study-5-{last.seed}"
    assert train_target(None, extra) == f"train_ae_extra@study-{extra.seed}"
    assert train_target(None, study.runs[0]) == f"train_ae@study-{study.runs[0].seed}"


def test_a_setup_listed_in_one_tier_only_gets_that_tiers_seeds(tmp_path):
    raw = repo_params()
    raw["setups"]["lean"] = {"model": {"latent": "laplace"}}
    raw["train"] |= {"extra_seed_setups": ["study", "lean"]}
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw))
    setups, train = params.load("setups", "train", path=path)
    assert setups["lean"].train.seeds == (*train.seeds, *train.extra_seeds)
    assert [run.tier for run in setups["lean"].runs][-1] == "extra"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"extra_seeds": [44]},
            "train.extra_seeds = [44]; expected seeds that are not in train.seeds",
        ),
        (
            {"extra_seed_setups": ["studdy"]},
            "train.extra_seed_setups names 'studdy', which is not a setup",
        ),
        (
            {"more_seeds": [45]},
            "train.more_seeds = [45]; expected seeds that are not in train.seeds or "
            "train.extra_seeds",
        ),
        (
            {"more_seed_setups": ["wdie"]},
            "train.more_seed_setups names 'wdie', which is not a setup",
        ),
    ],
)
def test_bad_extra_seeds_are_named(tmp_path, extra, message):
    raw = repo_params()
    raw["train"] |= extra
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(params.ParamsError, match=re.escape(message)):
        params.load("data", path=path)
    with pytest.raises(params.ParamsError, match="setups.nope: no such setup"):
        params.load_setup("nope")


def test_a_models_record_leaves_out_the_latent_family_while_it_is_the_default():
    """So that the models trained before the families existed keep their bytes and load."""
    model = params.load("model")
    assert model.latent == "normal" and model.prior_std == 1.0
    assert "latent" not in params.model_record(model)
    laplace = params.ModelParams(**{**params.as_dict(model), "latent": "laplace"})
    assert params.model_record(laplace) == params.as_dict(laplace)
