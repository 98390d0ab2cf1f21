"""Persistent sandbox state: one JSON document in ``<state_dir>/state.json``.

Every change happens inside ``with store.change() as data:`` which holds the (re-entrant)
lock and, on leaving the block, writes the whole document atomically (temp file +
``os.replace``).  Readers use ``with store.read() as data:``; never keep references to
the inner objects outside the lock.
"""
from __future__ import annotations

import contextlib
import copy
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

STATE_VERSION = 1
FILE_NAME = "state.json"


def _empty() -> dict:
    return {
        "version": STATE_VERSION,
        "counters": {},
        "clock_offset": 0.0,
        "faults": {},
        "notifications": {"pending": [], "log": [], "given_up": []},
        "banks": {},
    }


class StateStore:
    def __init__(self, state_dir: str | os.PathLike, log: Callable[[str], None] | None = None):
        self.dir = Path(state_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / FILE_NAME
        self.lock = threading.RLock()
        self._log = log or (lambda line: print(line, file=sys.stderr))
        self._depth = 0
        self._dirty = False
        self.data = self._load()

    # -- loading / saving -------------------------------------------------
    def _load(self) -> dict:
        if not self.path.exists():
            return _empty()
        try:
            data = json.loads(self.path.read_text("utf-8"))
            if not isinstance(data, dict):
                raise ValueError("top level is not an object")
        except (OSError, ValueError) as exc:
            aside = self.path.with_name(f"{FILE_NAME}.corrupt-{int(time.time())}")
            with contextlib.suppress(OSError):
                os.replace(self.path, aside)
            self._log(f"bank_sandbox: unreadable {self.path} ({exc}); moved aside to {aside.name}, starting empty")
            return _empty()
        base = _empty()
        base.update(data)
        for key, value in _empty()["notifications"].items():
            base["notifications"].setdefault(key, value)
        return base

    def _save(self) -> None:
        tmp = self.path.with_name(f".{FILE_NAME}.{os.getpid()}.{threading.get_ident()}.tmp")
        payload = json.dumps(self.data, ensure_ascii=False, separators=(",", ":"))
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(payload)
        os.replace(tmp, self.path)

    # -- access -------------------------------------------------------------
    @contextlib.contextmanager
    def change(self) -> Iterator[dict]:
        """Mutate the state; it is written to disk when the outermost block exits."""
        with self.lock:
            self._depth += 1
            try:
                yield self.data
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self._save()

    @contextlib.contextmanager
    def read(self) -> Iterator[dict]:
        with self.lock:
            yield self.data

    def snapshot(self, getter: Callable[[dict], Any] = lambda d: d) -> Any:
        with self.lock:
            return copy.deepcopy(getter(self.data))

    def replace_all(self, data: dict | None = None) -> None:
        with self.change():
            self.data.clear()
            self.data.update(data or _empty())

    # -- helpers --------------------------------------------------------------
    def bank(self, name: str, defaults: Callable[[], dict] | None = None) -> dict:
        """The section of ``name``'s module (caller must hold the lock)."""
        banks = self.data.setdefault("banks", {})
        if name not in banks:
            banks[name] = defaults() if defaults else {}
        return banks[name]

    def next_id(self, counter: str, start: int = 1) -> int:
        """Next value of a persistent counter (caller should be inside ``change()``)."""
        with self.lock:
            counters = self.data.setdefault("counters", {})
            value = int(counters.get(counter, start - 1)) + 1
            counters[counter] = value
            return value
