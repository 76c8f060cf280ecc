"""The committed metrics/claims.json, as a reader quotes it: every interval inside the range
its quantity can take, every claim with its quote, scope, scale, criterion and readings."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import pytest
from repo_copy import REPO

from vaelab.report.claims import CLAIMS

SUMMARY = REPO / "metrics" / "claims.json"


def _summary() -> dict[str, Any]:
    if not SUMMARY.exists():
        pytest.skip("metrics/claims.json is written by `dvc repro report`")
    return json.loads(SUMMARY.read_text())


def _numbers(summary: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for setup, claims in summary["setups"].items():
        for key, claim in claims.items():
            for judged in [claim["primary"], *claim["readings"]]:
                for name, number in ((judged or {}).get("numbers") or {}).items():
                    yield f"{setup} {key} {judged['reading']}: {name}", number


def test_no_interval_leaves_its_quantitys_range() -> None:
    found = list(_numbers(_summary()))
    assert found, "claims.json has no numbers"
    for where, number in found:
        low = -math.inf if number["range"][0] is None else number["range"][0]
        high = math.inf if number["range"][1] is None else number["range"][1]
        assert low <= number["low"] <= number["center"] <= number["high"] <= high, where
        assert number["by_run"], where  # each run's value, as measured (float rounding and all)


def test_every_claim_carries_its_record() -> None:
    records = {r.key: r for r in CLAIMS}
    for claims in _summary()["setups"].values():
        assert set(claims) == set(records)
        for key, claim in claims.items():
            for field in ("quote", "where", "scope", "scale", "criterion"):
                assert claim[field] == getattr(records[key], field), (key, field)
            names = [r.name for r in records[key].readings[1:]]
            assert [r["reading"] for r in claim["readings"]] == names, key
