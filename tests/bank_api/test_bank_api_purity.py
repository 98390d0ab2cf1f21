"""bank_api is pure Python: never imports odoo, only relative imports of itself
(it is imported as `bank_api` here and as `odoo.addons.odoo_bank_crm.bank_api` in Odoo)."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "odoo_bank_crm" / "bank_api"
SOURCES = sorted(PACKAGE.rglob("*.py"))


def test_package_found():
    assert (PACKAGE / "__init__.py").is_file() and len(SOURCES) > 3


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_odoo_and_no_absolute_self_import(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            assert top != "odoo", f"{path.name}:{node.lineno} imports odoo"
            assert top != "bank_api", f"{path.name}:{node.lineno} imports bank_api absolutely"


def test_imports_under_the_odoo_addon_name(tmp_path):
    """The same package must work as `odoo.addons.odoo_bank_crm.bank_api` (a fake, empty
    `odoo` namespace here, in a subprocess so this test session never sees it)."""
    import subprocess
    import sys

    addon = tmp_path / "odoo" / "addons" / "odoo_bank_crm"
    addon.mkdir(parents=True)
    for folder in (tmp_path / "odoo", tmp_path / "odoo" / "addons", addon):
        (folder / "__init__.py").write_text("")
    (addon / "bank_api").symlink_to(PACKAGE, target_is_directory=True)
    code = (
        "import sys; from odoo.addons.odoo_bank_crm import bank_api as b; "
        "assert 'bank_api' not in sys.modules; "
        "assert b.TBankAcquiringClient.__module__.startswith('odoo.addons.odoo_bank_crm.bank_api'); "
        "print(b.compute_token({'Amount': 1}, 'p'))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
