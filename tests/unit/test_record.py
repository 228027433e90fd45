"""engine.record: the dataclass subset the engine relies on."""

from __future__ import annotations

import pytest

from engine.record import FrozenInstanceError, field, record


@record
class Point:
    x: int
    y: int = 2
    tags: list[str] = field(default_factory=list)


@record(frozen=True)
class Key:
    name: str
    n: int = 0


def test_init_defaults_and_factory() -> None:
    a, b = Point(1), Point(1, 3, ["t"])
    assert (a.x, a.y, a.tags) == (1, 2, [])
    assert (b.x, b.y, b.tags) == (1, 3, ["t"])
    a.tags.append("u")
    assert Point(0).tags == []  # a fresh list per instance


def test_keywords_repr_eq() -> None:
    assert Point(x=1, y=5) == Point(1, 5)
    assert Point(1) != Point(2)
    assert repr(Point(1)) == "Point(x=1, y=2, tags=[])"
    with pytest.raises(TypeError):
        Point()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        hash(Point(1))


def test_frozen() -> None:
    k = Key("a")
    assert k == Key("a", 0) and hash(k) == hash(Key("a"))
    with pytest.raises(FrozenInstanceError):
        k.n = 1  # type: ignore[misc]


def test_default_before_required_is_refused() -> None:
    with pytest.raises(TypeError):
        @record
        class Bad:
            a: int = 0
            b: int
