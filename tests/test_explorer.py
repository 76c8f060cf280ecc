"""report/explorer.html in a real headless Chromium, with the network cut off.

The explorer stage builds the page from random-weight checkpoints (the real MNIST test digits
place the points); Selenium moves the pointer, shift-clicks and types as a reader would, and
the decodes read back from the page's canvases must equal PyTorch's within 1/255 per pixel.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from vaelab.browser import console_errors, network_requests, offline_chromium, requested_urls
from vaelab.core import params
from vaelab.core.checkpoints import checkpoint_path, save_checkpoint
from vaelab.core.models import AE, Classifier, build_autoencoder
from vaelab.core.names import Run, beta_tag, classifier_path, kind_of, model_dir
from vaelab.data.mnist import load_mnist
from vaelab.explorer.page import BETA_MENU, EPOCH_MENU, offered, payload, render

REPO = Path(__file__).resolve().parents[1]
HIDDEN = [32, 16]  # small decoders: the page's arithmetic is the same at any width
CLASSIFIER_P = {"hidden": [16], "dropout": 0.0}
PLANE = 480  # the plane canvas's CSS size in page.html
# Reads a 28 × 28 canvas back as 784 grey levels (the red channel of an opaque grey image).
READ_CANVAS = (
    "return Array.from(arguments[0].getContext('2d').getImageData(0, 0, 28, 28).data)"
    ".filter((_, i) => i % 4 === 0);"
)


@dataclass
class Built:
    page: Path
    models: dict[tuple[float, int], AE]
    means: dict[tuple[float, int], torch.Tensor]
    explorer: params.ExplorerParams


def random_autoencoder(kind: str, seed: int, latent_dim: int) -> AE:
    """Default init, weights ×3 so the decodes span most of [0, 1] rather than hug 0.5."""
    torch.manual_seed(seed)
    model = build_autoencoder(kind, HIDDEN, latent_dim)
    with torch.no_grad():
        for parameter in model.decoder.parameters():
            parameter.mul_(3)
    return model.eval()


def write_params(root: Path, **explorer: object) -> dict:
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    raw["model"]["hidden"] = HIDDEN
    raw["setups"]["study"] = {}  # the page's setup: the base model, with the test's network
    raw["explorer"] |= explorer | {"setup": "study"}
    (root / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    return raw


def run_stage(root: Path, data_root: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, str(REPO / "stages" / "explorer.py"), "--models", "models"]
    command += ["--data", str(data_root)]
    command += ["--out", "report/explorer.html", "--summary", "metrics/explorer.json"]
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    return subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)


def save_study(root: Path, raw: dict) -> dict[tuple[float, int], AE]:
    """Random-weight checkpoints of every model the page offers, and a classifier."""
    model_p = params.parse_section("model", raw["model"])
    explorer = params.parse_section("explorer", raw["explorer"])
    first = Run("study", raw["train"]["seeds"][0])
    models = {}
    for beta in explorer.betas:
        for epoch in explorer.checkpoints:
            model = random_autoencoder(kind_of(beta), seed=int(beta) * 100 + epoch, latent_dim=2)
            save_checkpoint(
                checkpoint_path(model_dir(root / "models", first, beta), epoch),
                model,
                {},
                epoch,
                kind=kind_of(beta),
                beta=beta,
                params={"model": params.model_record(model_p)},
            )
            models[beta, epoch] = model
    classifier = Classifier(CLASSIFIER_P["hidden"], CLASSIFIER_P["dropout"])
    seed = params.parse_section("classifier", raw["classifier"]).seeds[0]
    save_checkpoint(
        classifier_path(root / "models", seed),
        classifier,
        {},
        1,
        params=CLASSIFIER_P,
    )
    return models


@pytest.fixture(scope="module")
def built(tmp_path_factory, small_mnist_root) -> Built:
    root = tmp_path_factory.mktemp("explorer")
    raw = write_params(root)
    models = save_study(root, raw)
    done = run_stage(root, small_mnist_root)
    assert done.returncode == 0, done.stderr
    images = load_mnist(small_mnist_root)[1].flat_float()
    with torch.inference_mode():
        means = {key: model.encode(images)[0] for key, model in models.items()}
    explorer = params.parse_section("explorer", raw["explorer"])
    return Built(root / "report" / "explorer.html", models, means, explorer)


@pytest.fixture(scope="module")
def browser():
    with offline_chromium() as chromium:
        yield chromium


@pytest.fixture
def page(browser, built):
    """The page freshly loaded; afterwards it must have asked for nothing and logged no error."""
    browser.get(built.page.as_uri())
    yield browser
    urls = requested_urls(browser)
    assert built.page.as_uri() in urls, "the request log is empty: it proves nothing"
    assert network_requests(urls) == []
    assert console_errors(browser) == []


def pixels(browser, canvas) -> np.ndarray:
    return np.array(browser.execute_script(READ_CANVAS, canvas), dtype=np.int64)


def pytorch_decode(model: AE, z: list[float]) -> np.ndarray:
    """The grey levels PyTorch's float32 decoder gives for z."""
    with torch.inference_mode():
        image = torch.sigmoid(model.decode(torch.tensor([z], dtype=torch.float32)))[0]
    return np.rint(image.numpy().astype(np.float64) * 255).astype(np.int64)


def choose(browser, beta: float, epoch: int) -> None:
    Select(browser.find_element(By.ID, f"menu-{BETA_MENU}")).select_by_value(beta_tag(beta))
    Select(browser.find_element(By.ID, f"menu-{EPOCH_MENU}")).select_by_value(str(epoch))


def point_at(browser, z: list[float], shift: bool = False) -> list[float]:
    """Move the pointer to z's pixel (shift-click there if `shift`); the z the page decoded."""
    target = browser.execute_script("return explorer.pixelOf(arguments[0])", z)
    overlay = browser.find_element(By.ID, "overlay")
    dx, dy = round(target["x"] - PLANE / 2), round(target["y"] - PLANE / 2)
    actions = ActionChains(browser)
    if shift:
        actions.key_down(Keys.SHIFT).move_to_element_with_offset(overlay, dx, dy).click()
        actions.key_up(Keys.SHIFT).perform()
    else:
        actions.move_to_element_with_offset(overlay, dx, dy).perform()
    return json.loads(browser.find_element(By.ID, "readout").get_attribute("data-z"))


def pixel_width(browser) -> float:
    x0, x1 = browser.execute_script("return explorer.planeWindow()")[:2]
    return (x1 - x0) / PLANE


def test_pointer_decodes_as_pytorch_does_for_two_betas_and_two_checkpoints(page, built):
    known = [0.7, -0.4]
    for beta in built.explorer.betas:
        for epoch in built.explorer.checkpoints:
            choose(page, beta, epoch)
            decoded = point_at(page, known)
            assert np.abs(np.subtract(decoded, known)).max() <= pixel_width(page)
            shown = pixels(page, page.find_element(By.ID, "decode"))
            expected = pytorch_decode(built.models[beta, epoch], decoded)
            assert np.abs(shown - expected).max() <= 1, (beta, epoch)
            assert expected.std() > 20  # a real image, not a flat grey that anything matches
            known = [-known[1], known[0]]  # another z for the next model


def test_compare_shows_the_same_z_under_every_beta(page, built):
    epoch = built.explorer.checkpoints[-1]
    choose(page, built.explorer.betas[0], epoch)
    decoded = point_at(page, [-1.1, 0.9])
    canvases = page.find_elements(By.CSS_SELECTOR, "#compare canvas")
    assert len(canvases) == len(built.explorer.betas)
    decodes = [pixels(page, canvas) for canvas in canvases]
    for beta, shown in zip(built.explorer.betas, decodes, strict=True):
        assert np.abs(shown - pytorch_decode(built.models[beta, epoch], decoded)).max() <= 1
    assert np.abs(decodes[0] - decodes[1]).max() > 10, "every β decoded the same image"


def test_interpolation_strip_runs_between_the_decodes_of_two_means(page, built):
    beta, epoch = built.explorer.betas[-1], built.explorer.checkpoints[0]
    choose(page, beta, epoch)
    model, means = built.models[beta, epoch], built.means[beta, epoch]
    ends = (7, 42)
    for k, index in enumerate(ends):
        field = page.find_element(By.ID, f"end-{k}")
        field.clear()
        field.send_keys(str(index), Keys.TAB)
    strip = page.find_elements(By.CSS_SELECTOR, "#strip canvas")
    assert len(strip) == built.explorer.strip_images
    for canvas, index in zip((strip[0], strip[-1]), ends, strict=True):
        expected = pytorch_decode(model, means[index].tolist())
        assert np.abs(pixels(page, canvas) - expected).max() <= 1


def test_shift_click_picks_the_nearest_test_digit(page, built):
    beta, epoch = built.explorer.betas[0], built.explorer.checkpoints[-1]
    choose(page, beta, epoch)
    means = built.means[beta, epoch]
    index = 123
    point_at(page, means[index].tolist(), shift=True)
    picked = int(page.find_element(By.ID, "end-0").get_attribute("value"))
    gap = (means - means[index]).norm(dim=1)
    assert gap[picked] <= 1.5 * pixel_width(page), (picked, index)


@pytest.mark.parametrize("latent_dim", [1, 3])
def test_other_latent_sizes_decode_their_slice(browser, small_mnist_root, tmp_path, latent_dim):
    """1-D: a slider sets z. 3-D: two dimensions vary, the third is held at a test digit."""
    test = load_mnist(small_mnist_root)[1]
    model = random_autoencoder("vae", seed=latent_dim, latent_dim=latent_dim)
    explorer = params.parse_section(
        "explorer", yaml.safe_load((REPO / "params.yaml").read_text())["explorer"]
    )
    eval_p = params.load("eval", path=REPO / "params.yaml")
    data = payload(
        [offered(5.0, 1, model)],
        test.flat_float(),
        test.labels,
        Classifier(CLASSIFIER_P["hidden"], 0.0),
        0,  # the classifier's seed, as the page names it
        explorer,
        eval_p,
        params.load("model", path=REPO / "params.yaml"),
    )
    page_path = tmp_path / "explorer.html"
    page_path.write_text(render(data), encoding="utf-8")
    browser.get(page_path.as_uri())
    if latent_dim == 1:
        browser.execute_script(
            "const s = document.getElementById('slider'); s.value = 0.5;"
            "s.dispatchEvent(new Event('input'));"
        )
        decoded = json.loads(browser.find_element(By.ID, "readout").get_attribute("data-z"))
        assert len(decoded) == 1 and abs(decoded[0] - 0.5) < 1e-2
    else:
        Select(browser.find_element(By.ID, "dim-1")).select_by_value("2")  # vary z1 and z3
        decoded = point_at(browser, [0.3, 0.0, -0.6])
        with torch.inference_mode():
            held = model.encode(test.flat_float()[explorer.interpolate[0]][None])[0][0]
        assert decoded[1] == pytest.approx(float(held[1]), abs=1e-3)
    shown = pixels(browser, browser.find_element(By.ID, "decode"))
    assert np.abs(shown - pytorch_decode(model, decoded)).max() <= 1
    assert network_requests(requested_urls(browser)) == []
    assert console_errors(browser) == []


@pytest.mark.parametrize(
    ("latent", "prior_std", "prior", "shifted"),
    [
        ("normal", 1.0, "N(0, I)", "N(1, 0.5²)"),
        ("laplace", 2.0, "Laplace(0, 1.41)", "Laplace(1, 0.707)"),
        ("uniform", 2.0, "N(0, 2²)", "N(1, 1²)"),  # a uniform posterior's prior is normal
    ],
)
def test_the_page_draws_the_setups_own_prior(small_mnist_root, latent, prior_std, prior, shifted):
    """Its name and its spread: the circles are two of the prior's standard deviations (and
    of the shifted prior's: eval.shifted_std of it), and every model's plane holds both."""
    test = load_mnist(small_mnist_root)[1]
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    model_p = params.parse_section(
        "model", raw["model"] | {"latent": latent, "prior_std": prior_std}
    )
    eval_p = params.parse_section("eval", raw["eval"])
    explorer = params.parse_section("explorer", raw["explorer"] | {"classifier_grid": 4})
    data = payload(
        [offered(5.0, 1, random_autoencoder("vae", seed=0, latent_dim=2))],
        test.flat_float(),
        test.labels,
        Classifier(CLASSIFIER_P["hidden"], 0.0),
        0,
        explorer,
        eval_p,
        model_p,
    )
    assert data["prior"] == {"radius": 2 * prior_std, "name": prior}
    radius = 2 * eval_p.shifted_std * prior_std
    assert data["shifted"] == {"mean": eval_p.shifted_mean, "radius": radius, "name": shifted}
    for lo, hi in data["models"][0]["extent"]:
        assert lo <= -2 * prior_std and hi >= max(2 * prior_std, eval_p.shifted_mean + radius)


def test_an_index_past_the_test_set_is_refused_and_nothing_written(tmp_path, small_mnist_root):
    raw = write_params(tmp_path, interpolate=[0, 600])  # the small test set has 512 digits
    save_study(tmp_path, raw)
    done = run_stage(tmp_path, small_mnist_root)
    assert done.returncode == 1
    assert "explorer.interpolate" in done.stderr and "512" in done.stderr
    assert not (tmp_path / "report").exists()
