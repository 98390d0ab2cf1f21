"""Each business bank lives in one place (issue #14 §1, README "Adding a bank"): its code
appears in the addon only in its bank_api client module, its adapter and the adapters'
registration, besides data (demo records and their generator, translations) and tests.
Any other file that names it is listed.

The banks are the registered adapters (`odoo_bank_crm/adapters/*.py`, their `code`).
The acquiring provider's code `tbank` (`payment.provider`) is not a bank adapter and is
not checked here: issue #14 §2 moves it into its own addon, `payment_tbank/` at the
repository root, which this check never reads (it reads `odoo_bank_crm/` only). Its
substring `tbank` is not one of the codes looked for (`tbank_business` is)."""

import ast
import pathlib

ADDON = pathlib.Path(__file__).resolve().parents[2] / "odoo_bank_crm"
ADAPTERS = ADDON / "adapters"
#: Where the adapters are registered: the one place besides a bank's own files.
REGISTRATION = ADAPTERS / "__init__.py"
#: Data and tests, which name banks by nature: demo records, translations, tests, tours.
DATA_DIRECTORIES = ("demo", "i18n", "tests")
#: The one directory outside the addon that holds a provider (issue #14 §2), never read here.
ACQUIRING_ADDON = "payment_tbank"
BINARY_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".ico", ".woff", ".woff2", ".ttf", ".pdf", ".xlsx"}


def bank_codes():
    """{code: adapter module} of every adapter class with a `code` attribute."""
    codes = {}
    for path in sorted(ADAPTERS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef):
                continue
            for statement in node.body:
                if (
                    isinstance(statement, ast.Assign)
                    and any(isinstance(target, ast.Name) and target.id == "code" for target in statement.targets)
                    and isinstance(statement.value, ast.Constant)
                    and statement.value.value
                ):
                    codes[statement.value.value] = path
    return codes


def is_data(path):
    relative = path.relative_to(ADDON)
    return bool(set(relative.parts[:-1]) & set(DATA_DIRECTORIES)) or "demo" in path.stem


def addon_sources():
    """(path, lines) of the addon's text files, data and tests left out."""
    for path in sorted(ADDON.rglob("*")):
        if not path.is_file() or path.suffix in BINARY_SUFFIXES or "__pycache__" in path.parts or is_data(path):
            continue
        try:
            yield path, path.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            continue


def own_files(code, adapter):
    """The files where the bank `code` may be named: its client, its adapter, the registration."""
    return {ADDON / "bank_api" / f"{code}.py", adapter, REGISTRATION}


def stray_mentions(codes, sources):
    """'path:line: text' of each line of `sources` naming a bank outside its own files."""
    hits = []
    for path, lines in sources:
        for code, adapter in codes.items():
            if path in own_files(code, adapter):
                continue
            hits += [
                f"{path.relative_to(ADDON.parent)}:{number}: {line.strip()}"
                for number, line in enumerate(lines, 1)
                if code in line
            ]
    return hits


def test_the_banks_are_found():
    codes = bank_codes()
    assert {"tbank_business", "tochka"} <= set(codes)
    for code, adapter in codes.items():
        assert adapter.name == f"{code}.py", f"the adapter of {code} is {adapter.name}, not {code}.py"
        client = ADDON / "bank_api" / f"{code}.py"
        assert client.is_file(), f"{code}: no client module {client}"
        # the check is not vacuous: each bank is named in its own files and registered
        assert code in adapter.read_text(encoding="utf-8")
        assert f"from . import {code}" in REGISTRATION.read_text(encoding="utf-8")


def test_the_acquiring_addon_is_out_of_scope():
    assert not any(ACQUIRING_ADDON in path.relative_to(ADDON).parts for path, _lines in addon_sources())
    assert "tbank" not in bank_codes()


def test_each_bank_is_named_only_in_its_own_files():
    hits = stray_mentions(bank_codes(), addon_sources())
    assert not hits, "a bank named outside its client, adapter and registration:\n" + "\n".join(hits)


def test_the_check_reports_a_bank_named_in_a_flow():
    codes = {"tochka": ADAPTERS / "tochka.py"}
    flow = ADDON / "models" / "bank_crm_payment_order.py"
    sources = [
        (flow, ["state = 'sent'", "if connection.provider_code == 'tochka':"]),
        (ADAPTERS / "tochka.py", ["code = 'tochka'"]),
        (REGISTRATION, ["from . import tochka"]),
    ]
    assert stray_mentions(codes, sources) == [
        "odoo_bank_crm/models/bank_crm_payment_order.py:2: if connection.provider_code == 'tochka':"
    ]
