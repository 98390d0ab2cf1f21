"""The addon's Odoo tests, run by Odoo's own test runner, reported by pytest.

Odoo's runner is the reference for TransactionCase, HttpCase and tours (it
starts the HTTP server and the browser), so we do not re-implement it under
pytest. Instead, each `*.suite` file here names Odoo test tags; pytest
collects one item per test method found in the addon's test files, runs the
whole Odoo suite once on a fresh database (installing the addon, so at_install
and post_install tests both run), reads Odoo's log and reports every test with
its own outcome and traceback, plus one item for the run as a whole (install
errors, errors logged outside tests, Odoo's exit code and its tally).
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ADDON_TESTS = ROOT / "odoo_bank_crm" / "tests"

RECORD = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ (?P<level>[A-Z]+) (?P<db>\S+) "
    r"(?P<logger>[\w.]+): (?P<message>.*)$"
)
STARTING = re.compile(r"^Starting (?P<test>[\w.]+) \.\.\.")
OUTCOME = re.compile(r"^(?P<flavour>FAIL|ERROR): (?:Subtest )?(?P<test>\w+\.\w+)")
SKIPPED = re.compile(r"^skipped (?:Subtest )?(?P<test>\w+\.\w+)[^:]* : (?P<reason>.*)")
TALLY = re.compile(r"(?P<failed>\d+) failed, (?P<errors>\d+) error\(s\) of (?P<total>\d+) tests")


def discover_tests():
    """{'TestClass.test_method': file} for the addon's test classes, by reading
    their source (inherited test methods of classes defined there included)."""
    classes = {}
    for path in sorted(ADDON_TESTS.glob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                methods = [
                    n.name
                    for n in node.body
                    if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name.startswith("test")
                ]
                bases = [b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases]
                classes[node.name] = (path, methods, bases)

    def all_methods(name, seen=()):
        path, methods, bases = classes[name]
        found = list(methods)
        for base in bases:
            if base in classes and base not in seen:
                found += [m for m in all_methods(base, seen + (name,)) if m not in found]
        return found

    tests = {}
    for name, (path, methods, _bases) in classes.items():
        if name.startswith("Test"):
            for method in all_methods(name):
                tests[f"{name}.{method}"] = path
    return tests


def parse_log(text):
    """Outcomes per test, stray errors, and Odoo's tally from a test run's log."""
    records, current = [], None
    for line in text.splitlines():
        match = RECORD.match(line)
        if match:
            current = dict(match.groupdict())
            records.append(current)
        elif current is not None:
            current["message"] += "\n" + line
    outcomes, stray, tally, running = {}, [], None, None
    for record in records:
        message = record["message"]
        if m := STARTING.match(message):
            running = m["test"]
            outcomes.setdefault(running, ("passed", ""))
        elif m := OUTCOME.match(message):
            outcomes[m["test"]] = ("failed", message)
        elif m := SKIPPED.match(message):
            if outcomes.get(m["test"], ("passed",))[0] != "failed":
                outcomes[m["test"]] = ("skipped", m["reason"])
        elif (m := TALLY.search(message)) and record["logger"] == "odoo.tests.result":
            tally = {k: int(v) for k, v in m.groupdict().items()}
        elif record["level"] in ("ERROR", "CRITICAL") and not message.startswith("Test suite halted"):
            stray.append(f"[{running or 'outside tests'}] {record['logger']}: {message}")
    return outcomes, stray, tally


class OdooSuiteRun:
    """One run of Odoo's test runner for given tags, made on first demand."""

    def __init__(self, name, tags):
        self.name, self.tags = name, tags
        self.done = False

    def ensure(self):
        if self.done:
            return
        self.done = True
        import harness  # tools/ is on sys.path (tests/conftest.py)

        # Per process: several runs at once (developers, CI) must not share a database.
        self.returncode, log_path = harness.run_addon_tests(harness.Stack(), self.tags, f"suite-{self.name}")
        self.log_path = log_path
        self.outcomes, self.stray, self.tally = parse_log(log_path.read_text(errors="replace"))


class OdooSuiteFile(pytest.File):
    def collect(self):
        config = dict(
            line.split(":", 1)
            for line in self.path.read_text().splitlines()
            if ":" in line and not line.startswith("#")
        )
        run = OdooSuiteRun(self.path.stem, config["test-tags"].strip())
        for test, path in sorted(discover_tests().items()):
            yield OdooTestItem.from_parent(self, name=test, run=run, source=path)
        yield OdooRunItem.from_parent(self, name="odoo_run", run=run)


class OdooTestItem(pytest.Item):
    def __init__(self, *, run, source, **kwargs):
        super().__init__(**kwargs)
        self.run, self.source = run, source
        self.add_marker("odoo")

    def runtest(self):
        self.run.ensure()
        outcome, detail = self.run.outcomes.get(self.name, ("missing", ""))
        if outcome == "failed":
            raise OdooTestFailure(detail)
        if outcome == "skipped":
            pytest.skip(detail)
        if outcome == "missing":
            raise OdooTestFailure(
                f"{self.name} did not run in Odoo's test run (not tagged for it, "
                f"or the run stopped early); see {self.run.log_path}"
            )

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, OdooTestFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.source, None, f"odoo: {self.name}"


class OdooRunItem(OdooTestItem):
    """The run as a whole: it must exit 0, log no error outside a failing
    test's own report, and Odoo's tally must agree with what we collected."""

    def __init__(self, **kwargs):
        super().__init__(source=ADDON_TESTS, **kwargs)

    def runtest(self):
        self.run.ensure()
        problems = []
        if self.run.tally is None:
            problems.append("Odoo's test tally line is missing: the run did not reach the tests")
        elif self.run.tally["failed"] or self.run.tally["errors"]:
            problems.append(
                f"Odoo reports {self.run.tally['failed']} failed, "
                f"{self.run.tally['errors']} error(s) of {self.run.tally['total']} tests"
            )
        if self.run.stray:
            problems.append("errors logged during the run:\n" + "\n".join(self.run.stray))
        if self.run.returncode != 0:
            problems.append(f"odoo-bin exited with code {self.run.returncode}")
        if problems:
            raise OdooTestFailure("\n".join(problems) + f"\nlog: {self.run.log_path}")


class OdooTestFailure(Exception):
    pass


def pytest_collect_file(parent, file_path):
    if file_path.suffix == ".suite":
        return OdooSuiteFile.from_parent(parent, path=file_path)
    return None
