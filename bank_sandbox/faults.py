"""Fault injection: settable with ``--fault NAME=VALUE`` and ``/_admin/faults``.

The values live in the persistent state, so they survive a restart.

Two kinds: all-or-nothing faults (``drop``, ``duplicate``, ``out_of_order``, ``http500``
N times...) and rates (``drop_rate``, ``duplicate_rate``, ``reorder_rate``,
``burst_rate``), whose draws are a function of ``seed`` and of what is drawn for (the
payment, its status, the API request's number): the same seed and the same run give the
same faults, whatever the threads' timing.
"""

from __future__ import annotations

import hashlib
from typing import Any

# name -> (type, default, help)
FAULTS: dict[str, tuple[type, Any, str]] = {
    "latency": (int, 0, "milliseconds added to every API call"),
    "http500": (int, 0, "the next N API requests answer HTTP 500 (an HTML error page)"),
    "http429": (int, 0, "the next N API requests answer HTTP 429 Too Many Requests"),
    "duplicate": (int, 0, "each notification is delivered N times, even after OK (0/1 = once)"),
    "out_of_order": (bool, False, "notifications of a payment are held, then sent newest first"),
    "drop": (bool, False, "notifications are never sent (the status still changes)"),
    "duplicate_rate": (float, 0.0, "share (0..1) of notifications delivered twice, even after OK"),
    "reorder_rate": (float, 0.0, "share (0..1) of payments whose notifications are held, then sent newest first"),
    "drop_rate": (float, 0.0, "share (0..1) of notifications never sent (the status still changes)"),
    "burst_rate": (float, 0.0, "chance (0..1) that an API request starts a burst of HTTP 429 or 500 answers"),
    "burst_length": (int, 5, "API requests a burst (burst_rate) answers with HTTP 429 or 500, this one included"),
    "seed": (int, 0, "seed of the rates' draws: the same seed, the same faults"),
}
RATES = ("duplicate_rate", "reorder_rate", "drop_rate", "burst_rate")


def draw(seed: int, *parts: Any) -> float:
    """A number in [0, 1) fixed by ``seed`` and ``parts``: reproducible, thread-order free."""
    material = "|".join(str(part) for part in (seed, *parts)).encode()
    return int.from_bytes(hashlib.sha256(material).digest()[:8], "big") / 2**64


_TRUE = {"1", "true", "yes", "on", "y"}
_FALSE = {"0", "false", "no", "off", "n", ""}


class FaultError(ValueError):
    pass


def parse_value(name: str, value: Any) -> Any:
    """Convert a CLI string or JSON value to the fault's type; ``None`` means default."""
    if name not in FAULTS:
        raise FaultError(f"unknown fault {name!r}; known: {', '.join(FAULTS)}")
    kind, default, _ = FAULTS[name]
    if value is None:
        return default
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)):
            return value > 0
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        try:
            return float(text) > 0
        except ValueError:
            raise FaultError(f"fault {name}: expected true/false, got {value!r}") from None
    if kind is float:
        try:
            number = float(str(value).strip()) if not isinstance(value, (int, float)) else float(value)
        except ValueError:
            raise FaultError(f"fault {name}: expected a share between 0 and 1, got {value!r}") from None
        if isinstance(value, bool) or not 0.0 <= number <= 1.0:
            raise FaultError(f"fault {name}: expected a share between 0 and 1, got {value!r}")
        return number
    # int
    if isinstance(value, bool):
        return int(value)
    try:
        number = int(str(value).strip()) if not isinstance(value, (int, float)) else int(value)
    except ValueError:
        raise FaultError(f"fault {name}: expected a non-negative integer, got {value!r}") from None
    if number < 0:
        raise FaultError(f"fault {name}: expected a non-negative integer, got {value!r}")
    return number


def parse_assignment(text: str) -> tuple[str, Any]:
    """``NAME=VALUE`` (``NAME`` alone means on / 1)."""
    name, sep, value = text.partition("=")
    name = name.strip()
    return name, parse_value(name, value if sep else "1")


class Faults:
    def __init__(self, store):
        self.store = store

    def _section(self, data: dict) -> dict:
        return data.setdefault("faults", {})

    def get(self, name: str) -> Any:
        with self.store.read() as data:
            return self._section(data).get(name, FAULTS[name][1])

    def all(self) -> dict:
        with self.store.read() as data:
            section = self._section(data)
            return {name: section.get(name, spec[1]) for name, spec in FAULTS.items()}

    def set(self, values: dict) -> dict:
        parsed = {name: parse_value(name, value) for name, value in values.items()}
        with self.store.change() as data:
            section = self._section(data)
            for name, value in parsed.items():
                if value == FAULTS[name][1]:
                    section.pop(name, None)
                else:
                    section[name] = value
        return self.all()

    def clear(self, names=None) -> dict:
        with self.store.change() as data:
            section = self._section(data)
            for name in list(section) if names is None else names:
                if name not in FAULTS:
                    raise FaultError(f"unknown fault {name!r}; known: {', '.join(FAULTS)}")
                section.pop(name, None)
        return self.all()

    def take(self, name: str) -> bool:
        """Consume one unit of a counting fault (http500/http429); True if it fired.
        Every answer it causes is counted (counter ``<name>_answered``)."""
        with self.store.read() as data:
            if not self._section(data).get(name):
                return False
        with self.store.change() as data:
            section = self._section(data)
            left = int(section.get(name, 0))
            if left <= 0:
                return False
            if left == 1:
                section.pop(name, None)
            else:
                section[name] = left - 1
            counters = data.setdefault("counters", {})
            counters[f"{name}_answered"] = int(counters.get(f"{name}_answered", 0)) + 1
            return True

    def maybe_start_burst(self) -> str | None:
        """Called for every API request: with probability ``burst_rate`` (drawn from the
        seed and the request's number) a burst starts here, ``burst_length`` answers of
        HTTP 429 or 500 (which one is drawn too), this request's first. Returns the fault
        started (``http429`` / ``http500``) or None. Not while a burst is under way."""
        with self.store.read() as data:
            section = self._section(data)
            rate = float(section.get("burst_rate", 0.0))
            if not rate or section.get("http429") or section.get("http500"):
                return None
        with self.store.change() as data:
            section = self._section(data)
            counters = data.setdefault("counters", {})
            counters["api_request"] = number = int(counters.get("api_request", 0)) + 1
            seed = int(section.get("seed", 0))
            if draw(seed, "burst", number) >= rate:
                return None
            name = "http429" if draw(seed, "burst-kind", number) < 0.5 else "http500"
            section[name] = int(section.get("burst_length", FAULTS["burst_length"][1]))
            counters[f"{name}_bursts"] = int(counters.get(f"{name}_bursts", 0)) + 1
            return name

    @staticmethod
    def describe() -> dict:
        return {
            name: {"type": kind.__name__, "default": default, "help": help_}
            for name, (kind, default, help_) in FAULTS.items()
        }
