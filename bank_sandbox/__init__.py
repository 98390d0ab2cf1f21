"""bank_sandbox: a standalone HTTP server standing in for banks (demo, e2e tests, benchmarks).

Standard library only (``qrcode`` optional, for SBP QR images).  The Odoo addon never
imports this package; it talks to it over HTTP exactly as to a real bank.

    from bank_sandbox.server import SandboxServer
    with SandboxServer("127.0.0.1", 0, "/tmp/sandbox-state", notify_interval=0.05) as srv:
        print(srv.url)
"""

__version__ = "1.0"
