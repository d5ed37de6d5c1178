"""What each setting may hold, declared once beside its dataclass and checked in one place.

scikit-learn's `_parameter_constraints` in small: a dataclass keeps a table {field: constraint}
(`presets.PRESET_CONSTRAINTS`, `video.levers.LEVER_CONSTRAINTS`) and its `check` calls
`check_fields`, which refuses the first value of a wrong type or out of range with one line
naming the field and what it allows. Booleans are true or false only (a spec's "no" or "1" is
refused, never read as on). Combinations of fields (a backend's frame rule, a cache with
latent dropout) stay in the dataclass's own `check`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from .errors import F2FError


@dataclass(frozen=True)
class Whole:
    """An integer (not a boolean) from `low` to `high` (None: no bound)."""

    low: int | None = None
    high: int | None = None
    hint: str = ""  # what the number means, or a usual value, added to the error

    def allows(self, value: Any) -> bool:
        return (isinstance(value, int) and not isinstance(value, bool)
                and (self.low is None or value >= self.low) and (self.high is None or value <= self.high))

    def describe(self) -> str:
        if self.high is None:
            text = f"a whole number of at least {self.low}" if self.low is not None else "a whole number"
        else:
            text = f"a whole number from {self.low} to {self.high}"
        return f"{text} ({self.hint})" if self.hint else text


@dataclass(frozen=True)
class Real:
    """A finite number from `low` to `high`; `low_open` excludes `low` itself."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    hint: str = ""

    def allows(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return False
        above = self.low is None or (value > self.low if self.low_open else value >= self.low)
        return above and (self.high is None or value <= self.high)

    def describe(self) -> str:
        low = "" if self.low is None else (f"above {self.low:g}" if self.low_open else f"at least {self.low:g}")
        high = "" if self.high is None else f"at most {self.high:g}"
        text = "a finite number" + (f" {low}" if low else "") + (" and" if low and high else "") + (f" {high}" if high else "")
        return f"{text} ({self.hint})" if self.hint else text


@dataclass(frozen=True)
class Flag:
    """true or false."""

    def allows(self, value: Any) -> bool:
        return isinstance(value, bool)

    def describe(self) -> str:
        return "true or false"


@dataclass(frozen=True)
class Text:
    """A non-empty string (a model id, a name)."""

    def allows(self, value: Any) -> bool:
        return isinstance(value, str) and bool(value.strip())

    def describe(self) -> str:
        return "a non-empty name"


@dataclass(frozen=True)
class Choice:
    """One of `options`: a tuple, or a function giving the current ones (registries that add-ons extend)."""

    options: tuple | Callable[[], Iterable]
    hint: str = ""

    def choices(self) -> tuple:
        return tuple(self.options() if callable(self.options) else self.options)

    def allows(self, value: Any) -> bool:
        return isinstance(value, str) and value in self.choices()

    def describe(self) -> str:
        text = "one of " + ", ".join(map(str, self.choices()))
        return f"{text} ({self.hint})" if self.hint else text


@dataclass(frozen=True)
class Size:
    """(width, height), two whole numbers of at least `low`."""

    low: int = 1

    def allows(self, value: Any) -> bool:
        return isinstance(value, tuple) and len(value) == 2 and all(Whole(self.low).allows(v) for v in value)

    def describe(self) -> str:
        return f"WIDTHxHEIGHT, two whole numbers of at least {self.low} (e.g. 720x480)"


@dataclass(frozen=True)
class Optional:
    """None ("none" in a spec: off) or what `constraint` allows."""

    constraint: Any

    def allows(self, value: Any) -> bool:
        return value is None or self.constraint.allows(value)

    def describe(self) -> str:
        return f"{self.constraint.describe()}, or none"


def check_value(name: str, value: Any, constraint) -> None:
    """F2FError naming `name` and what it allows unless `constraint` allows `value`."""
    if not constraint.allows(value):
        shown = "x".join(map(str, value)) if isinstance(value, tuple) and isinstance(constraint, (Size, Optional)) else value
        raise F2FError(f"{name}={shown!r}: {name} must be {constraint.describe()}.")


def check_fields(obj: Any, constraints: dict[str, Any]) -> None:
    """`check_value` for each field of `obj` the table `constraints` names, in table order."""
    for name, constraint in constraints.items():
        check_value(name, getattr(obj, name), constraint)
