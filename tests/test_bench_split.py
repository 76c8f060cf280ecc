"""The split of a full `make repro`'s wall time, from a few fake runtime records and log
lines: each part's seconds, and the rest as DVC and process overhead."""

import os
import sys

import pytest

from vaelab.bench.pipeline import Clone
from vaelab.bench.split import split, stage_walls
from vaelab.repro import Batch

STUDY = ("train_ae@study-42", "train_vae@study-0-42", "train_vae@study-1-42",
         "train_ae@study-43", "train_vae@study-0-43", "train_vae@study-1-43")  # fmt: skip
WIDE = ("train_ae@wide-42", "train_vae@wide-0-42")
BATCHES = [Batch("study", 1, 2, STUDY), Batch("wide", 2, 1, WIDE)]


def _trained(seconds: float, together: int) -> dict:
    return {"train_seconds": seconds, "models_in_step": together, "images_per_s": 1.0}


RECORDS = {
    "download": {"seconds": 2.0},
    "train_classifier@7": {"train_seconds": 10.0},
    "train_classifier@8": {"train_seconds": 11.0},
    # study, two processes side by side: [ae-42, vae-1-42, vae-0-43] and [vae-0-42, ae-43,
    # vae-1-43]; each AE alone in its group, the VAEs two to a group (each half the group's)
    STUDY[0]: _trained(8.0, 1),
    STUDY[2]: _trained(10.0, 2),
    STUDY[4]: _trained(10.0, 2),  # process 1: 8 + 20 = 28 s
    STUDY[1]: _trained(9.0, 2),
    STUDY[3]: _trained(7.0, 1),
    STUDY[5]: _trained(9.0, 2),  # process 2: 7 + 18 = 25 s
    # wide: one process, an AE group then a VAE group
    WIDE[0]: _trained(30.0, 1),
    WIDE[1]: _trained(40.0, 1),
    "evaluate_ae@study": {"shared_seconds": 1.0, "seconds_by_model": {"a": 2.0, "b": 3.0}},
    "evaluate_vae@study-0": {"shared_seconds": 1.5, "seconds_by_model": {"a": 2.5}},
    "figures@study": {"seconds": 4.0},
    "figures@wide": {"seconds": 5.0},
}
LOG = [
    (0.5, "Running stage 'download':"),
    (1.0, "> python stages/download.py"),
    (190.0, "Running stage 'explorer':"),
    (197.0, "Running stage 'report':"),
    (199.0, "Updating lock file 'dvc.lock'"),
]


def test_stage_walls_run_from_one_stage_line_to_the_next():
    walls = stage_walls(LOG, 200.0)
    assert walls == {"download": 189.5, "explorer": 7.0, "report": 3.0}
    assert stage_walls([(1.0, "[1/2] Running stage 'x':")], 4.0) == {"x": 3.0}


def test_split_of_the_wall_time():
    found = split(200.0, RECORDS, stage_walls(LOG, 200.0), BATCHES)
    expected = {
        "training": 10 + 11 + 28 + 70,  # classifiers; slowest study process; wide in sequence
        "evaluation": (1 + 2 + 3) + (1.5 + 2.5),
        "figures": 4 + 5 + 7,  # the explorer has no record: its wall in DVC's log
        "report": 3.0,
        "download": 2.0,  # its record, not its wall in the log
    }
    expected["rest"] = 200 - sum(expected.values())
    for part, seconds in expected.items():
        assert found[f"pipeline_{part}_seconds"] == pytest.approx(seconds)
        assert found[f"pipeline_{part}_share"] == pytest.approx(seconds / 200)
    assert found["outside_training_share"] == pytest.approx(1 - 119 / 200)
    assert sum(found[f"pipeline_{p}_share"] for p in expected) == pytest.approx(1.0)


def test_stages_trained_one_at_a_time_add_up():
    alone = {t: _trained(5.0, 1) for t in STUDY}
    assert split(100.0, alone, {}, BATCHES)["pipeline_training_seconds"] == 30.0


def test_logged_run_times_each_line_as_it_is_written(tmp_path):
    clone = Clone.__new__(Clone)  # no git clone: only its command runner
    clone.path, clone.env = tmp_path, dict(os.environ)
    script = (
        "import time; print(\"Running stage 'a':\"); time.sleep(0.5); "
        "print(\"Running stage 'b':\")"
    )
    done, lines = clone.run_logged(sys.executable, "-c", script)
    assert done.stages == ("a", "b")
    walls = stage_walls(lines, done.seconds)
    assert walls["a"] >= 0.5
    assert walls["b"] < 0.5


def test_seed_tier_stages_are_found_by_the_record_they_write():
    """train_vae_extra@study-1-45 runs train_vae@…'s command, which writes
    runtime/train_vae@study-1-45.json: its seconds count with its process's."""
    tiers = ("train_vae@study-1-42", "train_vae_extra@study-1-45", "train_ae_more@study-47")
    records = {
        "train_vae@study-1-42": _trained(4.0, 2),
        "train_vae@study-1-45": _trained(4.0, 2),
        "train_ae@study-47": _trained(3.0, 2),
    }
    batches = [Batch("study", 1, 1, tiers)]
    assert split(100.0, records, {}, batches)["pipeline_training_seconds"] == 11.0
