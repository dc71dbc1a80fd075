"""The positional builders of frozen slotted dataclasses (``triage._frozen``)."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from triage._frozen import positional_builder


@dataclasses.dataclass(frozen=True, slots=True)
class _Point:
    x: int
    y: str
    z: tuple[int, ...] = ()


_build = positional_builder(_Point)


@given(st.integers(), st.text(), st.lists(st.integers()).map(tuple))
def test_the_built_object_equals_the_constructed_one(x: int, y: str, z: tuple[int, ...]
                                                    ) -> None:
    built = _build(x, y, z)
    assert built == _Point(x, y, z) and type(built) is _Point
    assert (built.x, built.y, built.z) == (x, y, z)


def test_every_field_is_required_and_the_object_stays_frozen() -> None:
    with pytest.raises(TypeError):
        _build(1, "a")  # the default is not filled in: all fields, in order
    with pytest.raises(dataclasses.FrozenInstanceError):
        _build(1, "a", ()).x = 2  # type: ignore[misc]
