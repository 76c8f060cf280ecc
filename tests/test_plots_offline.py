"""`dvc plots show/diff` with dvc_plots/offline.html draw every chart in a browser with no network.

Each test builds a small git+DVC repo, renders its plots with DVC and loads the page in headless
Chromium with all hosts unresolvable and a dead proxy. vega-embed marks each plot's div with the
class `vega-embed` and vega draws into a `<canvas class="marks">` inside it; both appear only if
the JS ran. DVC's default page (Vega from a CDN) is the control: it must stay blank here.
"""

import html as html_module
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from vaelab.browser import OFFLINE_FLAGS

TEMPLATE = Path(__file__).resolve().parents[1] / "dvc_plots" / "offline.html"
# The value for .dvc/config: DVC resolves a relative plots.html_template against .dvc/.
CONFIG_TEMPLATE = "../dvc_plots/offline.html"
DVC_YAML = """\
plots:
  - plots/loss.tsv:
      x: epoch
      y: [train_loss, val_loss]
      title: Loss per epoch
  - Reconstruction and KL vs beta:
      x: beta
      y:
        plots/tradeoff.csv: [recon, kl]
  - plots/accuracy.json:
      x: step
      y: accuracy
"""
# The div ids DVC gives the three plots above.
PLOT_IDS = {"plots_loss_tsv", "Reconstruction_and_KL_vs_beta", "plots_accuracy_json"}
LOSS_HEAD = "epoch\ttrain_loss\tval_loss\n1\t0.9\t1.0\n2\t0.6\t0.8\n3\t0.4\t0.7\n"
LOSS_WORKSPACE = LOSS_HEAD + "4\t0.3\t0.65\n"
TRADEOFF = "beta,recon,kl\n0.5,80,5\n1,90,3\n2,100,2\n4,120,1\n"
ACCURACY = (
    '[{"step": 0, "accuracy": 0.1}, {"step": 1, "accuracy": 0.5}, {"step": 2, "accuracy": 0.8}]'
)
ENV = {**os.environ, "DVC_NO_ANALYTICS": "1"}


def run(cmd: list[str], cwd: Path) -> str:
    """Run `cmd` in `cwd`; on failure, fail the test with its output."""
    proc = subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        pytest.fail(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


def dvc(repo: Path, *args: str) -> str:
    return run([sys.executable, "-m", "dvc", *args], repo)


@pytest.fixture(scope="module")
def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.fail("no chromium on PATH: install Debian's chromium (apt-get install -y chromium)")
    return path


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git+DVC repo whose loss.tsv has one more epoch in the workspace than in HEAD."""
    root = tmp_path_factory.mktemp("repo")
    run(["git", "init", "-q"], root)
    dvc(root, "init", "-q")
    (root / "plots").mkdir()
    (root / "plots" / "loss.tsv").write_text(LOSS_HEAD)
    (root / "plots" / "tradeoff.csv").write_text(TRADEOFF)
    (root / "plots" / "accuracy.json").write_text(ACCURACY)
    (root / "dvc.yaml").write_text(DVC_YAML)
    run(["git", "add", "-A"], root)
    run(
        [
            "git",
            "-c",
            "user.name=test",
            "-c",
            "user.email=test@localhost",
            "commit",
            "-qm",
            "plots",
        ],
        root,
    )
    (root / "plots" / "loss.tsv").write_text(LOSS_WORKSPACE)
    return root


def drawn_plots(chromium: str, page: Path, profile: Path) -> set[str]:
    """Ids of the plot divs that vega-embed filled with a non-empty canvas, with no network."""
    cmd = [
        chromium,
        *OFFLINE_FLAGS,
        f"--user-data-dir={profile}",
        "--virtual-time-budget=8000",
        "--dump-dom",
        page.as_uri(),
    ]
    dom = run(cmd, page.parent)
    # The plot divs are siblings: each one's content runs up to the next one's opening tag.
    pieces = re.split(r'(<div id="[^"]*"[^>]*>)', dom)
    drawn = set()
    for tag, content in zip(pieces[1::2], pieces[2::2], strict=True):
        canvas = re.search(r'<canvas[^>]*\bclass="marks"[^>]*>', content)
        width = canvas and re.search(r'\bwidth="(\d+)"', canvas[0])
        if "vega-embed" in tag and width and int(width[1]) > 0:
            drawn.add(re.match(r'<div id="([^"]*)"', tag)[1])
    return drawn


def assert_self_contained(page: Path) -> None:
    html = page.read_text(encoding="utf-8")
    assert not re.findall(r"<script[^>]*\bsrc\s*=", html), f"{page} loads a script from a URL"
    pinned = re.search(r"vega-lite@(\d+)\.", html)
    schema = re.search(r'"\$schema": "[^"]*/vega-lite/v(\d+)\.json"', html)
    assert pinned and schema and pinned[1] == schema[1], (
        f"inlined {pinned and pinned[0]} cannot read DVC's specs ({schema and schema[0]})"
    )


def test_show_draws_every_plot_offline(chromium: str, repo: Path, tmp_path: Path) -> None:
    dvc(repo, "plots", "show", "--html-template", str(TEMPLATE), "-o", str(tmp_path / "show"))
    page = tmp_path / "show" / "index.html"
    assert_self_contained(page)
    assert drawn_plots(chromium, page, tmp_path / "profile") == PLOT_IDS


def test_diff_draws_every_plot_offline_via_config(
    chromium: str, repo: Path, tmp_path: Path
) -> None:
    (repo / "dvc_plots").mkdir(exist_ok=True)
    shutil.copy(TEMPLATE, repo / "dvc_plots" / "offline.html")
    dvc(repo, "config", "plots.html_template", CONFIG_TEMPLATE)
    try:
        dvc(repo, "plots", "diff", "HEAD", "-o", str(tmp_path / "diff"))
    finally:
        dvc(repo, "config", "--unset", "plots.html_template")
    page = tmp_path / "diff" / "index.html"
    assert_self_contained(page)
    html = page.read_text(encoding="utf-8")
    assert '"rev": "HEAD"' in html and '"rev": "workspace"' in html, "diff lost a revision"
    assert drawn_plots(chromium, page, tmp_path / "profile") == PLOT_IDS


def test_default_cdn_page_stays_blank_without_network(
    chromium: str, repo: Path, tmp_path: Path
) -> None:
    """The control: if this page drew, the browser above had a network and proved nothing."""
    dvc(repo, "plots", "show", "-o", str(tmp_path / "cdn"))
    assert drawn_plots(chromium, tmp_path / "cdn" / "index.html", tmp_path / "profile") == set()


# The project's own template, as `dvc plots show` uses it for the per-model curves.
BY_MODEL = Path(__file__).resolve().parents[1] / ".dvc" / "plots" / "by_model.json"
# Epochs whose order as text (1, 10, 20, 5) differs from their order as numbers.
CONFIDENCE = "model,epoch,ratio\n" + "".join(
    f"{model},{epoch},{value}\n"
    for model in ("ae", "vae_beta_1")
    for epoch, value in ((1, 0.6), (5, 0.8), (10, 0.85), (20, 0.9))
)
# Wraps vegaEmbed so every view is kept, then writes each line mark's epochs, in the order
# the line joins its points, into the DOM for --dump-dom to read.
CAPTURE = """<script>
const embedViews = [], originalEmbed = vegaEmbed;
vegaEmbed = (...args) => { const p = originalEmbed(...args); embedViews.push(p); return p; };
window.addEventListener("load", () => Promise.all(embedViews).then(results => {
  const lines = [];
  const walk = node => node.marktype === "line"
    ? lines.push(node.items.map(item => item.datum.epoch))
    : (node.items || []).forEach(walk);
  results.forEach(result => walk(result.view.scenegraph().root));
  const out = document.createElement("pre");
  out.id = "line-epochs";
  out.textContent = JSON.stringify(lines);
  document.body.appendChild(out);
}));
</script>
"""


def test_each_models_line_joins_its_checkpoints_in_epoch_order(
    chromium: str, tmp_path: Path
) -> None:
    """DVC hands values to Vega as text; a line ordered by text would zigzag 1 → 10 → 20 → 5."""
    root = tmp_path / "repo"
    root.mkdir()
    run(["git", "init", "-q"], root)
    dvc(root, "init", "-q")
    (root / ".dvc" / "plots").mkdir(exist_ok=True)
    shutil.copy(BY_MODEL, root / ".dvc" / "plots" / "by_model.json")
    (root / "confidence.csv").write_text(CONFIDENCE)
    (root / "dvc.yaml").write_text(
        "plots:\n  - Ratio:\n      template: by_model\n      x: epoch\n"
        "      y:\n        confidence.csv: ratio\n"
    )
    dvc(root, "plots", "show", "--html-template", str(TEMPLATE), "-o", str(tmp_path / "show"))
    page = tmp_path / "show" / "index.html"
    html = page.read_text(encoding="utf-8")
    first_plot = html.index('<div id = "')
    page.write_text(html[:first_plot] + CAPTURE + html[first_plot:], encoding="utf-8")
    cmd = [chromium, *OFFLINE_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = run([*cmd, "--virtual-time-budget=8000", "--dump-dom", page.as_uri()], page.parent)
    found = re.search(r'<pre id="line-epochs">(.*?)</pre>', dom)
    assert found, "the page drew no line"
    lines = [[float(epoch) for epoch in line] for line in json.loads(found[1])]
    assert len(lines) == 2 and all(len(line) == 4 for line in lines), lines
    assert all(line == sorted(line) for line in lines), f"lines join epochs as {lines}"


REPO = Path(__file__).resolve().parents[1]
# Keeps every view vega-embed makes, then writes each chart's title and the order of its
# colour legend (the lines' order) into the DOM for --dump-dom to read.
CAPTURE_CHARTS = """<script>
const chartViews = [], embedOnce = vegaEmbed;
vegaEmbed = (...args) => { const p = embedOnce(...args); chartViews.push(p); return p; };
window.addEventListener("load", () => Promise.all(chartViews).then(results => {
  const charts = results.map(r => ({
    title: [].concat(r.spec.title || "").join(" "),
    lines: r.view.scale("color") ? r.view.scale("color").domain() : [],
  }));
  const out = document.createElement("pre");
  out.id = "charts";
  out.textContent = JSON.stringify(charts);
  document.body.appendChild(out);
}));
</script>
"""


def test_the_projects_plots_page_opens_with_the_comparisons(chromium: str, tmp_path: Path):
    """`make plots` on this repository: at most 24 charts, the first the study setup's test
    reconstruction per epoch, with one line per β in β's order (not the text order that
    would put β = 200 before β = 5)."""
    dvc(REPO, "plots", "show", "--html-template", str(TEMPLATE), "-o", str(tmp_path / "show"))
    page = tmp_path / "show" / "index.html"
    html = page.read_text(encoding="utf-8")
    first_plot = html.index('<div id = "')
    page.write_text(html[:first_plot] + CAPTURE_CHARTS + html[first_plot:], encoding="utf-8")
    cmd = [chromium, *OFFLINE_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = run([*cmd, "--virtual-time-budget=15000", "--dump-dom", page.as_uri()], page.parent)
    found = re.search(r'<pre id="charts">(.*?)</pre>', dom, re.DOTALL)
    assert found, "the page drew no chart"
    charts = json.loads(html_module.unescape(found[1]))
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    setups, betas = list(params["setups"]), sorted(params["vae"]["betas"])
    assert 0 < len(charts) <= 24, [c["title"] for c in charts]
    assert charts[0]["title"].startswith(f"{setups[0]}, test reconstruction per epoch")
    expected = [f"vae_beta_{beta:g}" for beta in betas]
    assert charts[0]["lines"] == expected, charts[0]
