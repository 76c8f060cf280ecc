"""The bench runs under the kernels dvc.yaml pins for every stage, read from dvc.yaml."""

import pytest
import yaml

from vaelab.bench import pinned as pin

PINNED = {"ATEN_CPU_CAPABILITY": "avx2", "MKL_CBWR": "AVX2,STRICT", "ONEDNN_MAX_CPU_ISA": "AVX2"}


def test_reads_the_pinned_prefix_of_this_repository():
    prefix = yaml.safe_load(pin.DVC_YAML.read_text())["vars"][0]["pinned"]
    found = pin.pinned_variables()
    assert prefix == "env " + " ".join(f"{k}={v}" for k, v in found.items())
    assert "ATEN_CPU_CAPABILITY" in found


def test_reads_any_prefix(tmp_path):
    path = tmp_path / "dvc.yaml"
    path.write_text("vars:\n  - other.yaml\n  - pinned: env A=1 B=x,y\nstages: {}\n")
    assert pin.pinned_variables(path) == {"A": "1", "B": "x,y"}
    path.write_text("vars:\n  - pinned: python\n")
    with pytest.raises(pin.KernelMismatchError, match="not `env NAME=value"):
        pin.pinned_variables(path)


def test_restarts_only_when_a_variable_differs():
    assert not pin.needs_restart({**PINNED, "HOME": "/root"}, PINNED)
    assert pin.needs_restart({}, PINNED)
    assert pin.needs_restart({**PINNED, "MKL_CBWR": ""}, PINNED)
    env = pin.pinned_environment({"MKL_CBWR": "AUTO", "HOME": "/root"}, PINNED)
    assert env == {**PINNED, "HOME": "/root"}


def test_kernels_must_match_in_one_line():
    good = {"aten_capability": "AVX2", **PINNED}
    pin.check_kernels(good, PINNED, "make bench")
    with pytest.raises(pin.KernelMismatchError) as error:
        pin.check_kernels({**good, "aten_capability": "AVX512", "MKL_CBWR": ""}, PINNED, "x")
    message = str(error.value)
    assert "\n" not in message
    assert "'AVX512'" in message and "MKL_CBWR=''" in message
