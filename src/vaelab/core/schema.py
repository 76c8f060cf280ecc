"""What a valid setting is: rules on a dataclass's fields, and the coercion of a YAML
mapping into that frozen dataclass.

params.py declares the sections of params.yaml with these; the errors name the file, the key,
the value and the rule, so a bad value can be fixed at once.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import field
from pathlib import Path
from typing import Any


class ParamsError(ValueError):
    """A value in params.yaml that breaks a rule."""


def rule_field(
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    choices: tuple[str, ...] | None = None,
    whole_as_int: bool = False,
) -> Any:
    """A dataclass field with a rule its values must keep."""
    rule = {"ge": ge, "gt": gt, "le": le, "choices": choices, "whole_as_int": whole_as_int}
    return field(metadata=rule)


def require(ok: bool, where: str, key: str, value: Any, rule: str) -> None:
    if not ok:
        raise ParamsError(f"{where}.{key} = {show(value)}; expected {rule}")


def show(value: Any) -> str:
    return repr(list(value)) if isinstance(value, tuple) else repr(value)


def _coerce_scalar(value: Any, kind: type, where: str) -> Any:
    """YAML value -> int/float/str/bool, refusing silent conversions (a bool is not an int)."""
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind is str and isinstance(value, str):
        return value
    if kind is bool and isinstance(value, bool):
        return value
    raise ParamsError(f"{where} = {value!r}; expected a {kind.__name__}")


def _check_rule(value: Any, rule: dict[str, Any], where: str, raw: Any = None) -> None:
    if rule.get("whole_as_int") and isinstance(raw, float) and raw.is_integer():
        raise ParamsError(
            f"{where} = {raw!r}; write a whole β as an integer ({int(raw)}): DVC names "
            f"stages after the value as written"
        )
    if rule.get("choices") is not None and value not in rule["choices"]:
        raise ParamsError(f"{where} = {value!r}; expected one of {', '.join(rule['choices'])}")
    for name, test, word in (
        ("ge", float.__ge__, "≥"),
        ("gt", float.__gt__, ">"),
        ("le", float.__le__, "≤"),
    ):
        bound = rule.get(name)
        if bound is not None and not test(float(value), float(bound)):
            raise ParamsError(f"{where} = {value!r}; expected a value {word} {bound}")


def _coerce(value: Any, hint: Any, rule: dict[str, Any], where: str) -> Any:
    if typing.get_origin(hint) is tuple:
        item_kind = typing.get_args(hint)[0]
        if not isinstance(value, list):
            raise ParamsError(f"{where} = {value!r}; expected a list of {item_kind.__name__}")
        items = []
        for i, item in enumerate(value):
            items.append(_coerce_scalar(item, item_kind, f"{where}[{i}]"))
            _check_rule(items[-1], rule, f"{where}[{i}]", item)
        return tuple(items)
    if isinstance(hint, types.UnionType):
        raise TypeError(f"unsupported type {hint} for {where}")
    coerced = _coerce_scalar(value, hint, where)
    _check_rule(coerced, rule, where)
    return coerced


def parse_dataclass(cls: type, raw: Any, path: Path | str, where: str) -> Any:
    """Validate a mapping into the frozen dataclass `cls`: every key known, none missing,
    each value of its field's type and within its rule, then the class's own `check`."""
    if not isinstance(raw, dict):
        raise ParamsError(f"{where} = {raw!r}; expected a mapping of settings")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        expected = ", ".join(fields)
        raise ParamsError(f"{where}.{unknown[0]}: unknown key; expected one of {expected}")
    missing = [k for k in fields if k not in raw]
    if missing:
        raise ParamsError(f"{where}.{missing[0]}: missing; add it to {path}")
    values = {
        k: _coerce(raw[k], hints[k], dict(f.metadata), f"{where}.{k}") for k, f in fields.items()
    }
    section = cls(**values)
    if hasattr(section, "check"):
        section.check(where)
    return section
