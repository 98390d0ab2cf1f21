"""Persistent sandbox state in ``<state_dir>``.

Two kinds of storage, both changed only inside ``with store.change() as data:`` (which
holds the re-entrant lock and persists when the outermost block exits):

* the **document** ``state.json`` (counters, faults, clock, pending notifications, bank
  configuration): small, rewritten atomically (temp file + ``os.replace``) on every change;
* **collections** (payments, delivery log...): dicts of records that can grow large.  Each
  lives in ``<name>.jsonl``, an append-only journal: a change appends only the records that
  were marked with ``store.touch(name, key)`` in that transaction, so a write costs the size
  of the changed records, not of the whole state.  A journal is compacted (rewritten
  atomically) when it holds many stale lines, on load, and on a clean stop.  A torn last
  line (crash mid-append) is ignored on load.

Readers use ``with store.read() as data:``; never keep references to inner objects outside
the lock.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import re
import sys
import threading
import time
from pathlib import Path
from typing import Any
from collections.abc import Callable, Iterator

STATE_VERSION = 2
FILE_NAME = "state.json"


def _empty() -> dict:
    return {
        "version": STATE_VERSION,
        "counters": {},
        "clock_offset": 0.0,
        "faults": {},
        "notifications": {"pending": []},
        "banks": {},
    }


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


class StateStore:
    def __init__(self, state_dir: str | os.PathLike, log: Callable[[str], None] | None = None, read_only: bool = False):
        """``read_only=True`` inspects a state dir (even one a running sandbox uses) without writing."""
        self.read_only = read_only
        self.dir = Path(state_dir)
        if not read_only:
            self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / FILE_NAME
        self.lock = threading.RLock()
        self._log = log or (lambda line: print(line, file=sys.stderr))
        self._depth = 0
        self._collections: dict[str, dict] = {}
        self._journal_lines: dict[str, int] = {}
        self._dirty: dict[str, set] = {}
        self.data = self._load()

    # -- document --------------------------------------------------------------------------
    def _move_aside(self, path: Path, why: str) -> None:
        aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
        with contextlib.suppress(OSError):
            os.replace(path, aside)
        self._log(f"bank_sandbox: unreadable {path} ({why}); moved aside to {aside.name}, starting empty")

    def _load(self) -> dict:
        if not self.path.exists():
            return _empty()
        try:
            data = json.loads(self.path.read_text("utf-8"))
            if not isinstance(data, dict):
                raise ValueError("top level is not an object")
        except (OSError, ValueError) as exc:
            if self.read_only:
                raise
            self._move_aside(self.path, str(exc))
            for journal in self.dir.glob("*.jsonl"):  # they belong to the lost document
                self._move_aside(journal, "its state.json was unreadable")
            return _empty()
        base = _empty()
        base.update(data)
        base["notifications"].setdefault("pending", [])
        return base

    def _atomic_write(self, path: Path, text: str) -> None:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)

    def _save(self) -> None:
        if self.read_only:
            raise RuntimeError("state store opened read-only")
        self._atomic_write(self.path, _dumps(self.data))
        dirty, self._dirty = self._dirty, {}
        for name, keys in dirty.items():
            records = self._collections.get(name, {})
            lines = []
            for key in keys:
                if key in records:
                    lines.append(_dumps({"k": key, "v": records[key]}))
                else:
                    lines.append(_dumps({"k": key, "deleted": True}))
            if not lines:
                continue
            with open(self._journal(name), "a", encoding="utf-8") as fh:
                fh.write("\n".join(lines) + "\n")
            self._journal_lines[name] = self._journal_lines.get(name, 0) + len(lines)
            if self._journal_lines[name] > max(1000, 3 * len(records)):
                self._compact(name)

    # -- collections ---------------------------------------------------------------------------
    def _journal(self, name: str) -> Path:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
            raise ValueError(f"bad collection name {name!r}")
        return self.dir / f"{name}.jsonl"

    def _load_collection(self, name: str) -> dict:
        path = self._journal(name)
        records: dict = {}
        lines = 0
        damaged = False
        if path.exists():
            with open(path, encoding="utf-8", errors="replace") as fh:
                for number, line in enumerate(fh, 1):
                    if not line.strip():
                        continue
                    try:
                        entry = json.loads(line)
                        key = entry["k"]
                    except (ValueError, KeyError, TypeError):
                        self._log(f"bank_sandbox: {path.name} line {number} unreadable, skipped")
                        damaged = True
                        continue
                    lines += 1
                    if entry.get("deleted"):
                        records.pop(key, None)
                    else:
                        records.pop(key, None)  # keep the journal's order = order of last change
                        records[key] = entry.get("v")
        self._collections[name] = records
        self._journal_lines[name] = lines
        if (damaged or lines > len(records)) and not self.read_only:
            self._compact(name)  # also repairs a torn last line before anything is appended
        return records

    def _compact(self, name: str) -> None:
        records = self._collections.get(name, {})
        text = "".join(_dumps({"k": k, "v": v}) + "\n" for k, v in records.items())
        self._atomic_write(self._journal(name), text)
        self._journal_lines[name] = len(records)
        self._dirty.pop(name, None)

    def collection(self, name: str) -> dict:
        """The records of collection ``name`` (caller holds the lock; mutate inside change())."""
        with self.lock:
            if name not in self._collections:
                self._load_collection(name)
            return self._collections[name]

    def touch(self, name: str, key: str) -> None:
        """Mark a record of a collection as changed (or deleted) in the current transaction."""
        with self.lock:
            self._dirty.setdefault(name, set()).add(str(key))

    def compact_all(self) -> None:
        with self.lock:
            self._save()
            for name in list(self._collections):
                self._compact(name)

    # -- access -----------------------------------------------------------------------------------
    @contextlib.contextmanager
    def change(self) -> Iterator[dict]:
        """Mutate the state; it is persisted when the outermost block exits."""
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
        """Wipe everything (document and collections)."""
        with self.change():
            self.data.clear()
            self.data.update(data or _empty())
            for name in list(self._collections):
                self._collections[name].clear()
                self._compact(name)
            for journal in self.dir.glob("*.jsonl"):
                if journal.stem not in self._collections:
                    with contextlib.suppress(OSError):
                        journal.unlink()

    # -- helpers ----------------------------------------------------------------------------------------
    def bank(self, name: str, defaults: Callable[[], dict] | None = None) -> dict:
        """The document section of ``name``'s module (caller must hold the lock)."""
        banks = self.data.setdefault("banks", {})
        if name not in banks:
            banks[name] = defaults() if defaults else {}
        return banks[name]

    def next_id(self, counter: str, start: int = 1) -> int:
        """Next value of a persistent counter (call inside ``change()``)."""
        with self.lock:
            counters = self.data.setdefault("counters", {})
            value = int(counters.get(counter, start - 1)) + 1
            counters[counter] = value
            return value
