"""The bank clients are pure Python: never import odoo, only relative imports of
themselves. odoo_bank_crm's `bank_api` is imported as `bank_api` here and as
`odoo.addons.odoo_bank_crm.bank_api` in Odoo; payment_tbank's `tbank_api` (T-Bank
acquiring) as `tbank_api` here and as `odoo.addons.payment_tbank.tbank_api` in Odoo."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# (addon, package, a class of the package and a call that must work)
PACKAGES = [
    ("odoo_bank_crm", "bank_api", "Matcher", "b.to_minor_units('1.50')"),
    ("payment_tbank", "tbank_api", "TBankAcquiringClient", "b.compute_token({'Amount': 1}, 'p')"),
]
SOURCES = [
    (package, path) for addon, package, *_rest in PACKAGES for path in sorted((ROOT / addon / package).rglob("*.py"))
]


@pytest.mark.parametrize(("addon", "package"), [entry[:2] for entry in PACKAGES])
def test_package_found(addon, package):
    folder = ROOT / addon / package
    assert (folder / "__init__.py").is_file() and len(list(folder.rglob("*.py"))) > 3


@pytest.mark.parametrize(("package", "path"), SOURCES, ids=lambda p: p if isinstance(p, str) else p.name)
def test_no_odoo_and_no_absolute_self_import(package, path):
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
            assert top not in ("bank_api", "tbank_api"), f"{path.name}:{node.lineno} imports {top} absolutely"


@pytest.mark.parametrize(("addon", "package", "class_name", "call"), PACKAGES)
def test_imports_under_the_odoo_addon_name(tmp_path, addon, package, class_name, call):
    """The same package must work as `odoo.addons.<addon>.<package>` (a fake, empty
    `odoo` namespace here, in a subprocess so this test session never sees it)."""
    import subprocess
    import sys

    addon_dir = tmp_path / "odoo" / "addons" / addon
    addon_dir.mkdir(parents=True)
    for folder in (tmp_path / "odoo", tmp_path / "odoo" / "addons", addon_dir):
        (folder / "__init__.py").write_text("")
    (addon_dir / package).symlink_to(ROOT / addon / package, target_is_directory=True)
    code = (
        f"import sys; from odoo.addons.{addon} import {package} as b; "
        f"assert {package!r} not in sys.modules; "
        f"assert b.{class_name}.__module__.startswith('odoo.addons.{addon}.{package}'); "
        f"print({call})"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
