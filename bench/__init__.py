"""Benchmarks of odoo_bank_crm: `python3 -m bench` (or `make bench`) from the repository root.

Each benchmark starts what it needs (the test PostgreSQL cluster, the bank sandbox, an
Odoo server on a database of its own), measures, and prints its figures next to a
baseline measured in the same run, with the ratio and whether the goals hold.
"""

import sys


def log_to_stderr(line):
    """Where the benchmarks' progress goes: stderr, at once (their figures go to stdout)."""
    print(line, file=sys.stderr, flush=True)
