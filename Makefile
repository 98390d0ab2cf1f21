# odoo_bank_crm: run the demo, run the tests. See README.md.
# PYTHON runs the set-up (standard library only); everything else runs in .venv/.
PYTHON ?= python3
VENV_PYTHON := .venv/bin/python
ARGS ?=

.PHONY: setup setup-demo demo test lint i18n bench

## the venv, Odoo 18.0, the requirements, PostgreSQL, Chromium and wkhtmltopdf (tools/setup.py)
setup:
	@$(PYTHON) tools/setup.py

setup-demo:
	@$(PYTHON) tools/setup.py --demo

## Odoo with the addon, demo data and the bank sandbox on http://localhost:8069
demo: setup-demo
	$(VENV_PYTHON) tools/demo.py $(ARGS)

## lint, then every test layer: bank_api, sandbox, unit, Odoo (pytest-odoo, browser tours), end to end
test: setup lint
	$(VENV_PYTHON) tools/run_tests.py $(ARGS)

## ruff (lint and format check) and pylint-odoo, configured in pyproject.toml
lint: setup
	.venv/bin/ruff check --quiet .
	.venv/bin/ruff format --check --quiet .
	.venv/bin/pylint --rcfile=pyproject.toml --score=n payment_tbank odoo_bank_crm

## regenerate i18n/odoo_bank_crm.pot from a database and merge it into every .po
i18n: setup
	$(VENV_PYTHON) tools/i18n.py $(ARGS)

## benchmarks (figures and ratios against a baseline in the same run)
bench: setup
	$(VENV_PYTHON) -m bench $(ARGS)
