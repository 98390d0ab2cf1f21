# odoo_bank_crm: run the demo, run the tests. See README.md.
PYTHON ?= python3
ARGS ?=

.PHONY: demo test i18n bench odoo-src install-dev

## Odoo with the addon, demo data and the bank sandbox on http://localhost:8069
demo:
	$(PYTHON) tools/demo.py $(ARGS)

## every test layer: bank_api, sandbox, Odoo tests (incl. browser tours), end to end
test:
	$(PYTHON) tools/run_tests.py $(ARGS)

## regenerate i18n/odoo_bank_crm.pot from a database and merge it into every .po
i18n:
	$(PYTHON) tools/i18n.py $(ARGS)

## benchmarks (figures and ratios against a baseline in the same run)
bench:
	$(PYTHON) -m bench $(ARGS)

## the Python packages the tests need (Odoo's own requirements excepted)
install-dev:
	$(PYTHON) -m pip install -r requirements-dev.txt

## the official Odoo 18.0 source in .state/odoo-src, where the network allows
odoo-src:
	test -d .state/odoo-src || git clone --depth 1 --branch 18.0 https://github.com/odoo/odoo.git .state/odoo-src
	$(PYTHON) -m pip install -r .state/odoo-src/requirements.txt
