"""Every user-facing string of the addon ships with its Russian translation."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import i18n  # noqa: E402


def test_russian_translation_is_complete():
    assert i18n.POT.exists(), "odoo_bank_crm/i18n/odoo_bank_crm.pot is missing: run `make i18n`"
    assert i18n.problems(i18n.I18N / "ru.po") == []


def test_payment_tbank_russian_translation_is_complete():
    """payment_tbank ships its own template and Russian (it installs without odoo_bank_crm)."""
    folder = ROOT / "payment_tbank" / "i18n"
    assert i18n.problems(folder / "ru.po", folder / "payment_tbank.pot") == []


def test_template_covers_the_addon_views():
    """A cheap guard that the template was regenerated after views changed:
    every string= and name= label of our menus is in the template."""
    import re

    template = i18n.POT.read_text()
    menus = (ROOT / "odoo_bank_crm" / "views" / "bank_crm_menus.xml").read_text()
    for label in re.findall(r'<menuitem [^>]*name="([^"]+)"', menus):
        assert f'msgid "{label}"' in template, f"menu {label!r} missing from the .pot: run `make i18n`"
