"""Every `sudo()` of the addons (odoo_bank_crm and payment_tbank, and every superuser environment it makes) says why, in a
`# sudo: <reason>` comment on its line or in the comment block right above it (issue #13:
"Justify each sudo() in a short comment"). Tests are not checked."""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]
ADDONS = (ROOT / "odoo_bank_crm", ROOT / "payment_tbank")
ESCALATION = re.compile(r"\.sudo\(\s*\)|\bsu=True\b")
REASON = re.compile(r"#\s*sudo:\s*\S")


def unjustified(path):
    """(line number, line) of each escalation in `path` without its reason."""
    lines = path.read_text(encoding="utf-8").splitlines()
    missing = []
    for index, line in enumerate(lines):
        code = line.split("#", 1)[0]
        if not ESCALATION.search(code) or REASON.search(line):
            continue
        above = index - 1
        justified = False
        while above >= 0 and lines[above].strip().startswith("#"):
            if REASON.search(lines[above]):
                justified = True
                break
            above -= 1
        if not justified:
            missing.append((index + 1, line.strip()))
    return missing


def addon_sources():
    return sorted(
        path for addon in ADDONS for path in addon.rglob("*.py") if "tests" not in path.relative_to(addon).parts
    )


def test_the_check_sees_the_addon():
    for addon in ADDONS:
        assert any(
            ESCALATION.search(path.read_text(encoding="utf-8")) for path in addon_sources() if addon in path.parents
        )


def test_every_sudo_says_why():
    missing = [
        f"{path.relative_to(ROOT)}:{number}: {line}" for path in addon_sources() for number, line in unjustified(path)
    ]
    assert not missing, "sudo() without a '# sudo: <reason>' comment:\n" + "\n".join(missing)


def test_a_sudo_without_reason_is_caught(tmp_path):
    source = tmp_path / "model.py"
    source.write_text(
        "records = self.sudo().search([])\n"
        "# sudo: the job's own records\n"
        "jobs = self.sudo().search([])\n"
        "# another comment\n"
        "other = self.sudo()  # sudo: this record only\n"
        "env = self.env(user=1, su=True)\n",
        encoding="utf-8",
    )
    assert unjustified(source) == [(1, "records = self.sudo().search([])"), (6, "env = self.env(user=1, su=True)")]
