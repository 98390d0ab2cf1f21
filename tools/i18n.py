"""`make i18n`: regenerate the addon's translation template from a database and
merge it into every language file; `--check` fails when a language file misses
or has stale translations (the tests run it).

    python3 tools/i18n.py            # export .pot, merge into ru.po (and any other .po)
    python3 tools/i18n.py --check    # exit 1 listing untranslated or fuzzy entries
"""

import argparse
import sys
from pathlib import Path

import polib

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parent.parent
I18N = ROOT / "odoo_bank_crm" / "i18n"
POT = I18N / "odoo_bank_crm.pot"


def export_pot():
    import harness

    stack = harness.Stack()  # with demo data, whose terms ship translated too
    db = stack.db_with_addon("bank_crm_i18n", "i18n.log")
    stack.odoo(
        ["-d", db, f"--i18n-export={POT}", "--modules=odoo_bank_crm", "--stop-after-init", "--no-http"], "i18n.log"
    )


def merge():
    template = polib.pofile(str(POT))
    for path in sorted(I18N.glob("*.po")):
        po = polib.pofile(str(path))
        po.merge(template)
        for entry in po.obsolete_entries():  # strings the addon no longer has
            po.remove(entry)
        po.save(str(path))
        print(f"{path.name}: {po.percent_translated()}% translated")


def problems(path, template_path=None):
    """Entries of the template (`template_path`, default odoo_bank_crm's) missing from,
    untranslated in or fuzzy in `path`."""
    template = polib.pofile(str(template_path or POT))
    po = polib.pofile(str(path))
    translated = {(e.msgctxt, e.msgid): e for e in po if e.translated() and not e.obsolete}
    found = []
    for entry in template:
        if (entry.msgctxt, entry.msgid) not in translated:
            found.append(entry.msgid)
    found += [f"(fuzzy) {e.msgid}" for e in po.fuzzy_entries()]
    # Odoo merges the template into a language file when it loads it: a translation whose
    # term the template lacks is dropped then, and the screen stays in English.
    known = {(e.msgctxt, e.msgid) for e in template}
    found += [
        f"(not in the template: run `make i18n`) {e.msgid}"
        for e in po
        if e.translated() and not e.obsolete and (e.msgctxt, e.msgid) not in known
    ]
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    if args.check:
        failed = False
        for path in sorted(I18N.glob("*.po")):
            missing = problems(path)
            if missing:
                failed = True
                print(f"{path.name}: {len(missing)} untranslated: " + "; ".join(missing[:20]))
        return 1 if failed else 0
    export_pot()
    merge()
    return 0


if __name__ == "__main__":
    sys.exit(main())
