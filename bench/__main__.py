"""python3 -m bench [--only NAME] [-n REQUESTS] [-c CONCURRENCY] [--sizes 250,1000] [--operations 20000] [--lines 10000] [--keep] [--json FILE]

Runs every benchmark (or those named with --only) and prints its figures, next to a
baseline measured in the same run, with the ratios and whether the goals hold.
"""

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT / "tools", ROOT / "odoo_bank_crm"):  # the harness; bank_api as a plain package
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import harness  # noqa: E402
import odoo_env  # noqa: E402
import pgcluster  # noqa: E402

from bench import auto_invoice, log_to_stderr, matching, sync, webhook  # noqa: E402
from bench import statement  # noqa: E402
from bench import webhook_abuse  # noqa: E402
from bench import bizhooks  # noqa: E402


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


def run_webhook_abuse(args):
    result = webhook_abuse.run(keep=args.keep, log=log_to_stderr)
    print(webhook_abuse.report(result), flush=True)
    return result


def run_bizhooks(args):
    result = bizhooks.run(keep=args.keep, log=log_to_stderr)
    print(bizhooks.report(result), flush=True)
    return result


def run_auto_invoice(args):
    return auto_invoice.run(tuple(int(size) for size in args.sizes.split(",")), keep=args.keep)


def run_sync(args):
    result = sync.run(operations=args.operations, keep=args.keep, log=log_to_stderr)
    print(sync.report(result), flush=True)
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


BENCHMARKS = {"webhook": run_webhook, "auto_invoice": run_auto_invoice, "sync": run_sync}
BENCHMARKS["statement"] = run_statement
BENCHMARKS["webhook_abuse"] = run_webhook_abuse
BENCHMARKS["bizhooks"] = run_bizhooks
BENCHMARKS["matching"] = run_matching  # after sync: compared with its import when both run


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
    parser.add_argument("--keep", action="store_true", help="keep the benchmark databases")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if not 1 <= args.requests <= 100_000 or not 1 <= args.concurrency <= 256:
        parser.error("--requests must be 1..100000 and --concurrency 1..256")
    try:
        odoo_env.locate()
        bin_dir = pgcluster.find_pg_bin()
        user = pgcluster._run_as()
        was_running = pgcluster._is_running(bin_dir, user, pgcluster.cluster_dir(harness.TEST_CLUSTER, user))
    except (odoo_env.OdooNotFound, pgcluster.ClusterError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    results = {}
    try:
        for name in args.only or list(BENCHMARKS):
            results[name] = BENCHMARKS[name](args, results) if name == "matching" else BENCHMARKS[name](args)
            print(flush=True)
    finally:
        if not was_running:
            pgcluster.stop(harness.TEST_CLUSTER)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
