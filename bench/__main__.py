"""python3 -m bench [--only NAME] [-n REQUESTS] [-c CONCURRENCY] [--burst 1000] [--rate 20] [--duration 30] [--sizes 250,1000] [--operations 20000] [--lines 10000] [--payments 10000] [--minutes 30] [--seed 16] [--keep] [--json FILE]

Runs every benchmark (or those named with --only) and prints its figures, next to a
baseline measured in the same run, with the ratios and whether the goals hold.
"""

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT / "tools", ROOT / "odoo_bank_crm", ROOT / "payment_tbank"):  # the harness; bank_api, tbank_api
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import harness  # noqa: E402
import odoo_env  # noqa: E402
import pgcluster  # noqa: E402

from bench import auto_invoice, booking, log_to_stderr, matching, sync, webhook  # noqa: E402
from bench import statement  # noqa: E402
from bench import webhook_abuse  # noqa: E402
from bench import chaos  # noqa: E402
from bench import sync_crash  # noqa: E402
from bench import bizhooks  # noqa: E402
from bench import onboarding  # noqa: E402


def run_webhook(args):
    result = webhook.run(
        requests_count=args.requests,
        concurrency=args.concurrency,
        baseline=args.baseline,
        keep=args.keep,
        log=log_to_stderr,
    )
    print(webhook.report(result), flush=True)
    return result


def run_booking(args):
    result = booking.run(
        burst=args.burst,
        rate=args.rate,
        duration=args.duration,
        concurrency=args.concurrency,
        keep=args.keep,
        log=log_to_stderr,
    )
    print(booking.report(result), flush=True)
    return result


def run_webhook_abuse(args):
    result = webhook_abuse.run(keep=args.keep, log=log_to_stderr)
    print(webhook_abuse.report(result), flush=True)
    return result


def run_onboarding(args):
    result = onboarding.run(keep=args.keep, log=log_to_stderr)
    print(onboarding.report(result), flush=True)
    return result


def run_bizhooks(args):
    result = bizhooks.run(burst=args.burst, keep=args.keep, log=log_to_stderr)
    print(bizhooks.report(result), flush=True)
    return result


def run_auto_invoice(args):
    return auto_invoice.run(tuple(int(size) for size in args.sizes.split(",")), keep=args.keep)


def run_sync(args):
    result = sync.run(operations=args.operations, keep=args.keep, log=log_to_stderr)
    print(sync.report(result), flush=True)
    return result


def run_sync_crash(args):
    result = sync_crash.run(operations=args.operations, keep=args.keep, log=log_to_stderr)
    print(sync_crash.report(result), flush=True)
    return result


def run_statement(args):
    return statement.run(keep=args.keep)


def run_matching(args, results=None):
    sync_result = (results or {}).get("sync")
    reference = (sync_result["first"], sync_result["count"]) if sync_result else None
    result = matching.run(
        lines=args.lines, small=args.small, keep=args.keep, import_reference=reference, log=log_to_stderr
    )
    print(matching.report(result), flush=True)
    return result


def run_chaos(args):
    result = chaos.run(
        count=args.payments, time_bound=args.minutes * 60, seed=args.seed, keep=args.keep, log=log_to_stderr
    )
    print(chaos.report(result), flush=True)
    return result


BENCHMARKS = {"webhook": run_webhook, "auto_invoice": run_auto_invoice, "sync": run_sync}
BENCHMARKS["statement"] = run_statement
BENCHMARKS["webhook_abuse"] = run_webhook_abuse
BENCHMARKS["sync_crash"] = run_sync_crash
BENCHMARKS["booking"] = run_booking
BENCHMARKS["bizhooks"] = run_bizhooks
BENCHMARKS["onboarding"] = run_onboarding
BENCHMARKS["matching"] = run_matching  # after sync: compared with its import when both run
BENCHMARKS["chaos"] = run_chaos  # the longest: last


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m bench", description=__doc__.splitlines()[2])
    parser.add_argument(
        "--only", choices=sorted(BENCHMARKS), action="append", help="run only this benchmark (repeatable)"
    )
    parser.add_argument("-n", "--requests", type=int, default=300, help="webhook: measured requests per route (300)")
    parser.add_argument("-c", "--concurrency", type=int, default=8, help="webhook: concurrent clients (8)")
    parser.add_argument(
        "--baseline",
        choices=sorted(webhook.BASELINES),
        default="version_info",
        help="webhook: the trivial Odoo route measured next to it",
    )
    parser.add_argument(
        "--burst", type=int, default=1000, help="booking, bizhooks: notifications (transfers) in the burst (1000)"
    )
    parser.add_argument("--rate", type=float, default=20.0, help="booking: the steady rate, notifications/s (20)")
    parser.add_argument("--duration", type=float, default=30.0, help="booking: seconds at the steady rate (30)")
    parser.add_argument("--sizes", default="250,1000", help="auto_invoice: batch sizes, comma-separated")
    parser.add_argument(
        "--operations", type=int, default=sync.OPERATIONS, help=f"sync: operations imported ({sync.OPERATIONS:,})"
    )
    parser.add_argument(
        "--lines",
        type=int,
        default=matching.LINES,
        help=f"matching: incoming lines against as many open invoices ({matching.LINES:,})",
    )
    parser.add_argument(
        "--small",
        type=int,
        default=matching.SMALL,
        help=f"matching: the smaller batch whose queries are compared ({matching.SMALL:,})",
    )
    parser.add_argument("--payments", type=int, default=chaos.COUNT, help=f"chaos: payments at most ({chaos.COUNT:,})")
    parser.add_argument(
        "--minutes",
        type=float,
        default=chaos.TIME_BOUND / 60,
        help=f"chaos: minutes at most for the payments ({chaos.TIME_BOUND // 60}), then the check",
    )
    parser.add_argument("--seed", type=int, default=chaos.SEED, help=f"chaos: seed of the bank's faults ({chaos.SEED})")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark databases")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if not 1 <= args.requests <= 100_000 or not 1 <= args.concurrency <= 256:
        parser.error("--requests must be 1..100000 and --concurrency 1..256")
    if not 1 <= args.payments <= 1_000_000 or not 0 < args.minutes <= 24 * 60:
        parser.error("--payments must be 1..1000000 and --minutes more than 0, at most a day")
    try:
        odoo_env.locate()
        bin_dir = pgcluster.find_pg_bin()
        user = pgcluster._run_as()
        was_running = pgcluster._is_running(bin_dir, user, pgcluster.cluster_dir(harness.TEST_CLUSTER, user))
    except (odoo_env.OdooNotFound, pgcluster.ClusterError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    results = {}
    status = 0
    try:
        for name in args.only or list(BENCHMARKS):
            results[name] = BENCHMARKS[name](args, results) if name == "matching" else BENCHMARKS[name](args)
            print(flush=True)
            if name == "chaos" and chaos.failed(results[name]):
                status = 1  # something lost or doubled
    finally:
        if not was_running:
            pgcluster.stop(harness.TEST_CLUSTER)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return status


if __name__ == "__main__":
    sys.exit(main())
