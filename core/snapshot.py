"""Frozen snapshot dataclasses read from ORM rows, so each view declares its fields only once.

A view subclasses `Snapshot` and lists its fields; `View.of(row)` copies each field without a
default from the row attribute of the same name. Enum fields go through their enum (columns
hold plain strings) and tuple fields are made tuples (JSON columns hold lists). Fields with a
default (nested snapshots, which may need loading) come only from the keyword arguments.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable
from enum import Enum
from typing import Any, Self

Convert = Callable[[Any], Any]


class Snapshot:
    """Base of the frozen view dataclasses handed to front ends (no ORM session needed)."""

    @classmethod
    def of(cls, row: object, **given: Any) -> Self:
        values = {name: read(row, name) for name, read in _readers(cls) if name not in given}
        return cls(**values, **given)


@functools.cache
def _readers(view: type) -> tuple[tuple[str, Callable[[object, str], Any]], ...]:
    # Worked out once per view class: snapshots are taken for every row of every list.
    hints = typing.get_type_hints(view)
    return tuple(
        (f.name, _reader(hints[f.name]))
        for f in dataclasses.fields(view)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    )


def _reader(hint: Any) -> Callable[[object, str], Any]:
    convert = _converter(hint)
    if convert is None:
        return getattr
    return lambda row, name: None if (value := getattr(row, name)) is None else convert(value)


def _converter(hint: Any) -> Convert | None:
    """How a column value becomes the field's type: an enum or a tuple; anything else as is."""
    if isinstance(hint, types.UnionType):  # `X | None`: convert to X, keep None
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return _converter(options[0]) if len(options) == 1 else None
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint
    if typing.get_origin(hint) is tuple:
        return tuple
    return None
