"""Rows to the shared data classes: SQLite's INTEGER back to ``bool``, TEXT back to the enums."""

from __future__ import annotations

import types
import typing
from dataclasses import fields
from enum import StrEnum
from typing import Any, TypeVar

T = TypeVar("T")


#: per data class: field name -> the type its stored value is turned into (bools and enums)
_CONVERTERS: dict[type, dict[str, Any]] = {}


def _converters(cls: type) -> dict[str, Any]:
    if cls in _CONVERTERS:
        return _CONVERTERS[cls]
    out: dict[str, Any] = {}
    for name, hint in typing.get_type_hints(cls).items():
        if isinstance(hint, types.UnionType):  # `X | None`: convert to X when not None
            hint = next(a for a in typing.get_args(hint) if a is not type(None))
        if hint is bool or (isinstance(hint, type) and issubclass(hint, StrEnum)):
            out[name] = hint
    _CONVERTERS[cls] = out
    return out


def from_row(cls: type[T], row: dict[str, Any]) -> T:
    """An instance of the dataclass ``cls`` from a row (columns it lacks are ignored)."""
    convert = _converters(cls)
    kwargs: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        if f.name in row:
            value = row[f.name]
            if value is not None and f.name in convert:
                value = convert[f.name](value)
            kwargs[f.name] = value
    return cls(**kwargs)
