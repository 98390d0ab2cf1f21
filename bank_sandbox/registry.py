"""Bank module registry.

A bank is a subclass of :class:`BankModule` decorated with :func:`register_bank`, in a
module listed in ``DEFAULT_BANK_MODULES`` (or passed as ``banks=`` to the server).  It
registers its routes on the shared router and keeps its data in
``store.bank(self.name)`` (persisted with everything else).  Adding a bank = adding a
module; nothing else changes.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .http_util import Request, Response, Router
    from .server import Sandbox

# Python modules imported at start-up; each registers one or more banks.
DEFAULT_BANK_MODULES = ("bank_sandbox.tbank_acquiring", "bank_sandbox.tbank_business", "bank_sandbox.tochka")

BANKS: dict[str, type[BankModule]] = {}


def register_bank(cls):
    if not getattr(cls, "name", ""):
        raise ValueError(f"{cls!r} has no name")
    BANKS[cls.name] = cls
    return cls


def load_banks(names=None) -> list[type[BankModule]]:
    """Import the default bank modules, then return the classes selected by ``names``
    (bank names such as ``"tbank_acquiring"`` or dotted module paths); all if None."""
    for module in DEFAULT_BANK_MODULES:
        importlib.import_module(module)
    if names is None:
        return list(BANKS.values())
    selected = []
    for name in names:
        if name not in BANKS and "." in name:
            before = set(BANKS)
            importlib.import_module(name)
            selected.extend(BANKS[n] for n in BANKS if n not in before)
            continue
        if name not in BANKS:
            raise ValueError(f"unknown bank {name!r}; known: {', '.join(BANKS)}")
        selected.append(BANKS[name])
    return selected


class BankModule:
    """Base class of a simulated bank API."""

    name = ""
    title = ""

    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox
        self.store = sandbox.store
        self.notifier = sandbox.notifier
        self.clock = sandbox.clock
        self.options = sandbox.options
        with self.store.change():
            self.store.bank(self.name, self.state_defaults)

    # -- hooks ----------------------------------------------------------------------
    def state_defaults(self) -> dict:
        """Initial content of this bank's state section."""
        return {}

    def register(self, router: Router) -> None:
        """Add routes: ``router.add("POST", "/v2/{method}", handler, kind="api", owner=self.name)``."""

    def on_tick(self) -> None:
        """Called about 4 times a second from a background thread (expiry sweeps...)."""

    def on_reset(self) -> None:
        """State was wiped; re-seed configuration (terminals...)."""

    def admin_state(self) -> dict:
        """Merged into ``GET /_admin/state``."""
        return {}

    def internal_error(self, request: Request) -> Response:
        """Answer for an unexpected exception in one of this bank's API routes."""
        from .http_util import Response

        return Response.json({"error": "internal error"}, 500)
