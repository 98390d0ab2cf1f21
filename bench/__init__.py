"""Benchmarks of odoo_bank_crm: `python3 -m bench` (or `make bench`) from the repository root.

Each benchmark starts what it needs (the test PostgreSQL cluster, the bank sandbox, an
Odoo server on a database of its own), measures, and prints its figures next to a
baseline measured in the same run, with the ratio and whether the goals hold.
"""
