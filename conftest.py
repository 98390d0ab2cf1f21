"""pytest's root configuration for every layer.

pytest-odoo (the runner of the addon's Odoo tests) registers itself in every
pytest session of an environment where it is installed, with session-wide
autouse fixtures that load an Odoo registry: without an Odoo database they fail
every test ("Missing database name"). The plain layers (bank_api, sandbox, unit,
end to end) need no database of their own, so in a session that names none
those fixtures are overridden here by ones that do nothing; in a session that
names one, the override hands over to pytest-odoo's own fixture.
"""
import os

import pytest

ODOO_OPTIONS = ("--odoo-database", "--odoo-config", "--odoo-dev")


def odoo_session(config):
    """Whether this pytest session runs against an Odoo database (pytest-odoo's test)."""
    try:
        if any(config.getoption(option) for option in ODOO_OPTIONS):
            return True
    except ValueError:  # pytest-odoo is not installed: none of its options exists
        return False
    return bool(os.environ.get("ODOO_RC") or os.environ.get("OPENERP_SERVER"))


def _odoo_fixture(name, scope):
    @pytest.fixture(name=name, scope=scope, autouse=True)
    def fixture(request):
        if odoo_session(request.config):
            # pytest hands the same name, asked from its override, to the overridden fixture
            yield request.getfixturevalue(name)
        else:
            yield None

    return fixture


load_registry = _odoo_fixture("load_registry", "session")
load_http = _odoo_fixture("load_http", "session")
enable_odoo_test_flag = _odoo_fixture("enable_odoo_test_flag", "module")
