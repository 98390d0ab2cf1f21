"""python3 -m bench [--only NAME] [-n REQUESTS] [-c CONCURRENCY] [--json FILE]"""
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

from bench import webhook  # noqa: E402

BENCHMARKS = {webhook.NAME: webhook}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m bench", description=__doc__)
    parser.add_argument("--only", choices=sorted(BENCHMARKS), action="append",
                        help="run only this benchmark (repeatable)")
    parser.add_argument("-n", "--requests", type=int, default=300, help="measured requests per route (300)")
    parser.add_argument("-c", "--concurrency", type=int, default=8, help="concurrent clients (8)")
    parser.add_argument("--baseline", choices=sorted(webhook.BASELINES), default="version_info",
                        help="the trivial Odoo route measured next to the webhook")
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
    results = []
    try:
        for name in args.only or sorted(BENCHMARKS):
            module = BENCHMARKS[name]
            result = module.run(requests_count=args.requests, concurrency=args.concurrency,
                                baseline=args.baseline, log=lambda line: print(line, file=sys.stderr, flush=True))
            results.append(result)
            print(module.report(result), flush=True)
    finally:
        if not was_running:
            pgcluster.stop(harness.TEST_CLUSTER)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
