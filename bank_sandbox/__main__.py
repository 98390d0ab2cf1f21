"""Command line: ``python -m bank_sandbox --port N --state DIR [options]``."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from .faults import FaultError, parse_assignment
from .server import PortInUseError, SandboxServer, parse_terminals


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bank_sandbox",
        description="Bank sandbox: T-Bank acquiring API v2 with a hosted payment page and notifications.",
    )
    parser.add_argument("--port", type=int, required=True, help="TCP port to listen on (0 = any free port)")
    parser.add_argument("--state", required=True, metavar="DIR", help="directory for state.json")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--public-url", default=None, help="base URL used in PaymentURL links (default http://HOST:PORT)"
    )
    parser.add_argument(
        "--notify-interval",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="seconds between notification retries (default 5)",
    )
    parser.add_argument(
        "--notify-max-attempts",
        type=int,
        default=50,
        metavar="N",
        help="failed attempts before a notification is given up (default 50)",
    )
    parser.add_argument(
        "--notify-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="HTTP timeout of one notification attempt (default 10, like the bank)",
    )
    parser.add_argument(
        "--terminal",
        action="append",
        default=None,
        metavar="KEY:PASSWORD[:NOTIFICATION_URL]",
        help="acquiring terminal (repeatable; default TinkoffBankTest:TinkoffBankTest)",
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="start with a fault on: latency=MS, http500=N, http429=N, duplicate=N, "
        "out_of_order=true, drop=true (repeatable)",
    )
    parser.add_argument("--quiet", action="store_true", help="no request log on stderr")
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        faults = dict(parse_assignment(text) for text in args.fault)
        terminals = parse_terminals(args.terminal)
    except (FaultError, ValueError) as exc:
        parser.error(str(exc))
    server = SandboxServer(
        args.host,
        args.port,
        args.state,
        public_url=args.public_url,
        notify_interval=args.notify_interval,
        notify_max_attempts=args.notify_max_attempts,
        notify_timeout=args.notify_timeout,
        terminals=terminals,
        faults=faults,
        quiet=args.quiet,
    )
    try:
        server.bind()
    except PortInUseError as exc:
        print(f"bank_sandbox: {exc.strerror}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"bank_sandbox: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        server.start()
    except OSError as exc:
        print(f"bank_sandbox: cannot start: {exc}", file=sys.stderr)
        return 2
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
        server.log("bank_sandbox stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
