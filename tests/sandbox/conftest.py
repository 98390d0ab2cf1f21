"""Fixtures for the bank sandbox tests: an in-process sandbox on a free port, a signed API
client and a small HTTP receiver standing in for the merchant."""

from __future__ import annotations

import pytest

from bank_sandbox.server import SandboxServer
from sandbox_helpers import Api, Receiver


@pytest.fixture
def receiver():
    rcv = Receiver()
    yield rcv
    rcv.close()


@pytest.fixture
def make_sandbox(tmp_path):
    """Factory: start a sandbox on a free port (several may share a state dir)."""
    servers = []

    def factory(state_dir=None, **options):
        options.setdefault("notify_interval", 0.05)
        options.setdefault("notify_timeout", 2.0)
        options.setdefault("quiet", True)
        server = SandboxServer("127.0.0.1", 0, state_dir or tmp_path / "state", **options).start()
        servers.append(server)
        return server

    yield factory
    for server in servers:
        server.stop()


@pytest.fixture
def sandbox(make_sandbox):
    return make_sandbox()


@pytest.fixture
def api(sandbox):
    return Api(sandbox.url)
