"""`record`: the part of dataclasses the engine uses (generated __init__, __repr__, __eq__; frozen), cheaply.

`import dataclasses` costs ~4 ms (it imports inspect, which imports ast, dis, tokenize...) and each
@dataclass ~0.4 ms; together a fifth of a small dump's whole time. A record class is made in ~30 us:
one exec'd __init__, the rest shared. Fields are the class's annotations in order; a default is a
class attribute, `field(default_factory=f)` a fresh f() per instance.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, dataclass_transform

T = TypeVar("T")


class _Factory:
    __slots__ = ("make",)

    def __init__(self, make: Callable[[], Any]) -> None:
        self.make = make


def field(*, default_factory: Callable[[], Any]) -> Any:
    return _Factory(default_factory)


class FrozenInstanceError(AttributeError):
    pass


def _repr(self: Any) -> str:
    fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__record_fields__)
    return f"{type(self).__qualname__}({fields})"


def _values(self: Any) -> tuple[Any, ...]:
    return tuple(getattr(self, n) for n in self.__record_fields__)


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _values(self) == _values(other)


def _hash(self: Any) -> int:
    return hash(_values(self))


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


def _build(cls: type[T], frozen: bool) -> type[T]:
    names: list[str] = []
    for klass in reversed(cls.__mro__[:-1]):  # fields of record bases first, like dataclasses
        for n in klass.__dict__.get("__annotations__", {}):
            if n not in names and not str(klass.__dict__["__annotations__"][n]).startswith("ClassVar"):
                names.append(n)
    params: list[str] = []
    body: list[str] = []
    env: dict[str, Any] = {"_setattr": object.__setattr__}
    for n in names:
        default = getattr(cls, n, _MISSING)
        if isinstance(default, _Factory):
            env[f"_f_{n}"] = default.make
            params.append(f"{n}=_FACTORY")
            value = f"_f_{n}() if {n} is _FACTORY else {n}"
            delattr(cls, n)
        elif default is not _MISSING:
            env[f"_d_{n}"] = default
            params.append(f"{n}=_d_{n}")
            value = n
        else:
            if params and "=" in params[-1]:
                raise TypeError(f"{cls.__name__}: field {n} without a default follows one with a default")
            params.append(n)
            value = n
        body.append(f"    _setattr(self, {n!r}, {value})" if frozen else f"    self.{n} = {value}")
    env["_FACTORY"] = _FACTORY
    src = f"def __init__(self, {', '.join(params)}) -> None:\n" + ("\n".join(body) or "    pass") + "\n"
    ns: dict[str, Any] = {}
    exec(src, env, ns)
    init = ns["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = init  # type: ignore[misc,method-assign]
    cls.__record_fields__ = tuple(names)  # type: ignore[attr-defined]
    if "__repr__" not in cls.__dict__:
        cls.__repr__ = _repr  # type: ignore[assignment]
    if "__eq__" not in cls.__dict__:
        cls.__eq__ = _eq  # type: ignore[assignment]
    if frozen:
        cls.__setattr__ = _frozen_setattr  # type: ignore[assignment]
        cls.__delattr__ = _frozen_delattr  # type: ignore[assignment]
        cls.__hash__ = _hash  # type: ignore[assignment]
    elif "__hash__" not in cls.__dict__ or cls.__dict__["__hash__"] is None:
        cls.__hash__ = None  # type: ignore[assignment]  # mutable and comparable: unhashable, like dataclasses
    return cls


_MISSING = object()
_FACTORY = object()


@dataclass_transform(field_specifiers=(field,))  # a type checker reads @record classes as dataclasses
def record(cls: type[T] | None = None, *, frozen: bool = False) -> Any:
    """Class decorator: @record or @record(frozen=True)."""
    if cls is None:
        return lambda c: _build(c, frozen)
    return _build(cls, frozen)
