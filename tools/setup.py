"""Make sure of everything `make test` and `make demo` need, in order, one line a step.

    python3 tools/setup.py            # for the tests: venv, Odoo, requirements, PostgreSQL,
                                      # Chromium and wkhtmltopdf
    python3 tools/setup.py --demo     # the same without the browser (wkhtmltopdf kept: PDFs)

Steps (each prints what it did and how long it took; a second run finds them
done and goes straight on):

1. a virtual environment in ``.venv/`` (the Python that runs this script);
2. Odoo 18.0's source, the first of: ``ODOO_SRC`` (a tree, used where it is),
   ``ODOO_ARCHIVE`` (a tarball, unpacked into ``.state/odoo-src``), an earlier
   ``.state/odoo-src``, the official 18.0 branch cloned where the network allows;
3. Odoo's Python requirements (``psycopg2-binary`` for ``psycopg2``, no
   ``python-ldap``, ``setuptools<70`` as a build constraint) and Odoo itself,
   installed into the venv (a ``.pth`` file naming the source tree);
4. this project's requirements (``requirements-dev.txt``);
5. PostgreSQL's server binaries;
6. Chromium, wkhtmltopdf and poppler-utils (pdftotext).
Steps 5 and 6 install Debian's packages when they are missing and we are root,
and otherwise stop with one line naming the package.

Uses the standard library only: it runs before anything else is installed.
"""

import argparse
import glob
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATE = Path(os.environ.get("BANK_CRM_STATE") or ROOT / ".state")
VENV = ROOT / ".venv"
ODOO_DIR = STATE / "odoo-src"
SERIES = "18.0"
OFFICIAL_REPO = "https://github.com/odoo/odoo.git"
# Build constraints for Odoo 18's pinned sdists on Python 3.11 (see README).
CONSTRAINTS = "setuptools<70\n"
# Odoo's requirements we replace or leave out, by distribution name (lower case).
REPLACED = {"psycopg2": "psycopg2-binary", "python-ldap": None}


class SetupError(Exception):
    """What the user must do; printed as one line."""


def venv_python():
    return VENV / "bin" / "python"


def step(label):
    """Decorator-free timing: `with step('venv') as s: ...; s.done('created')`."""
    return _Step(label)


class _Step:
    def __init__(self, label):
        self.label, self.note = label, ""

    def __enter__(self):
        self.started = time.monotonic()
        return self

    def done(self, note):
        self.note = note

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            seconds = time.monotonic() - self.started
            print(f"setup: {self.label:<22} {self.note} ({seconds:.1f} s)", flush=True)
        return False


def run(cmd, **kwargs):
    """Run `cmd`; on failure raise SetupError with the tail of its output."""
    result = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise SetupError(f"`{' '.join(map(str, cmd[:4]))} …` failed:\n{tail}")
    return result


def stamp_ok(name, content):
    stamp = VENV / f".bank_crm-{name}"
    return stamp.exists() and stamp.read_text() == content


def write_stamp(name, content):
    (VENV / f".bank_crm-{name}").write_text(content)


# --- 2. Odoo's source -------------------------------------------------------


def _series_of(src):
    release = Path(src) / "odoo" / "release.py"
    if not release.exists():
        return None
    scope = {}
    exec(compile(release.read_text(), str(release), "exec"), scope)
    return scope.get("series")


def _archive_id(archive):
    stat = archive.stat()
    return f"{archive.resolve()}:{stat.st_size}:{int(stat.st_mtime)}"


def odoo_source_plan():
    """(how, path) of the Odoo source to use, decided before anything is created."""
    if os.environ.get("ODOO_SRC"):
        src = Path(os.environ["ODOO_SRC"])
        series = _series_of(src)
        if series is None:
            raise SetupError(f"ODOO_SRC={src} is not an Odoo source tree (no odoo/release.py)")
        if series != SERIES:
            raise SetupError(f"ODOO_SRC={src} is Odoo {series}; this addon needs {SERIES}")
        return "tree", src
    if os.environ.get("ODOO_ARCHIVE"):
        archive = Path(os.environ["ODOO_ARCHIVE"])
        if not archive.is_file():
            raise SetupError(f"ODOO_ARCHIVE={archive} is not a file")
        return "archive", archive
    if _series_of(ODOO_DIR) == SERIES:
        return "tree", ODOO_DIR
    if (
        shutil.which("git")
        and subprocess.run(
            ["git", "ls-remote", "--heads", OFFICIAL_REPO, SERIES],
            capture_output=True,
            timeout=30,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
        ).returncode
        == 0
    ):
        return "clone", OFFICIAL_REPO
    raise SetupError(
        f"Odoo {SERIES} not found: set ODOO_SRC to an Odoo {SERIES} source tree, or ODOO_ARCHIVE to a "
        f"tarball of it (the official {SERIES} branch cannot be cloned from here)"
    )


def _unpack(archive, target):
    """Unpack a source tarball, refusing members that would land outside `target`
    (absolute paths, `..`, links, devices), with the standard `data` filter where the
    Python has it (3.11.4+, 3.12) and the same checks by hand where it does not."""
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(target, filter="data")
            return
        root = Path(target).resolve()
        members = []
        for member in tar.getmembers():
            dest = (root / member.name).resolve()
            if not dest.is_relative_to(root) or not (member.isfile() or member.isdir()):
                raise SetupError(f"{archive} holds {member.name!r}, which is not a plain file or folder inside it")
            members.append(member)
        tar.extractall(target, members=members)  # every member checked above


def ensure_odoo_source(plan):
    how, where = plan
    with step("odoo source") as s:
        if how == "tree":
            s.done(f"{where}")
            return where
        ODOO_DIR.parent.mkdir(parents=True, exist_ok=True)
        marker = ODOO_DIR / ".bank_crm-archive"
        if how == "archive":
            ident = _archive_id(where)
            if marker.exists() and marker.read_text() == ident and _series_of(ODOO_DIR) == SERIES:
                s.done(f"{ODOO_DIR} (from {where.name}, unpacked before)")
                return ODOO_DIR
            partial = ODOO_DIR.with_name("odoo-src.partial")
            shutil.rmtree(partial, ignore_errors=True)
            partial.mkdir()
            _unpack(where, partial)
            entries = list(partial.iterdir())
            top = entries[0] if len(entries) == 1 and entries[0].is_dir() else partial
            series = _series_of(top)
            if series != SERIES:
                shutil.rmtree(partial, ignore_errors=True)
                raise SetupError(f"ODOO_ARCHIVE={where} holds Odoo {series or 'nothing recognisable'}, not {SERIES}")
            shutil.rmtree(ODOO_DIR, ignore_errors=True)
            top.rename(ODOO_DIR)
            shutil.rmtree(partial, ignore_errors=True)
            marker.write_text(ident)
            s.done(f"{ODOO_DIR} (unpacked from {where.name})")
            return ODOO_DIR
        shutil.rmtree(ODOO_DIR, ignore_errors=True)
        run(["git", "clone", "--quiet", "--depth", "1", "--branch", SERIES, where, str(ODOO_DIR)])
        s.done(f"{ODOO_DIR} (cloned {SERIES})")
        return ODOO_DIR


# --- 1, 3, 4. The venv and its packages -------------------------------------


def ensure_venv():
    with step("venv") as s:
        python = venv_python()
        if python.exists() and subprocess.run([str(python), "-c", "import pip"], capture_output=True).returncode == 0:
            s.done(f"{VENV} (in place)")
            return
        shutil.rmtree(VENV, ignore_errors=True)
        run([sys.executable, "-m", "venv", str(VENV)])
        run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--upgrade",
                "pip<26",
                "wheel",
            ]
        )
        s.done(f"{VENV} (created with {sys.executable})")


def _pip(args):
    constraints = VENV / "build-constraints.txt"
    constraints.write_text(CONSTRAINTS)
    env = {
        **os.environ,
        "PIP_BUILD_CONSTRAINT": str(constraints),
        "PIP_CONSTRAINT": str(constraints),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    run([str(venv_python()), "-m", "pip", "install", "--quiet", *args], env=env)


def odoo_requirements(src):
    """Odoo's requirements.txt with our replacements, as the lines pip gets."""
    lines = []
    for raw in (Path(src) / "requirements.txt").read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name = line.split(";")[0].split("=")[0].split("<")[0].split(">")[0].strip().lower()
        if name in REPLACED:
            if REPLACED[name] is None:
                continue
            line = REPLACED[name] + line[len(name) :]
        lines.append(line)
    return "\n".join(lines) + "\n"


def ensure_odoo_installed(src):
    with step("odoo requirements") as s:
        requirements = odoo_requirements(src)
        pth_line = f"{Path(src).resolve()}\n"
        content = requirements + "pth:" + pth_line
        if stamp_ok("odoo", content):
            s.done("in place")
            return
        req_file = VENV / "odoo-requirements.txt"
        req_file.write_text(requirements)
        _pip(["-r", str(req_file)])
        purelib = run(
            [str(venv_python()), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
        ).stdout.strip()
        Path(purelib, "odoo-18.0-src.pth").write_text(pth_line)
        check = run([str(venv_python()), "-c", "import odoo.release as r; print(r.series)"], cwd="/")
        if check.stdout.strip() != SERIES:
            raise SetupError(f"the venv imports Odoo {check.stdout.strip()}, not {SERIES}")
        write_stamp("odoo", content)
        s.done(f"installed, Odoo {SERIES} importable from the venv")


def ensure_project_requirements():
    with step("project requirements") as s:
        files = [ROOT / "requirements.txt", ROOT / "requirements-dev.txt"]
        content = "".join(f.read_text() for f in files)
        if stamp_ok("project", content):
            s.done("in place")
            return
        _pip(["-r", str(ROOT / "requirements-dev.txt")])
        write_stamp("project", content)
        s.done("installed (requirements-dev.txt)")


# --- 5, 6. System packages --------------------------------------------------

_APT_UPDATED = False


def apt_install(packages, why):
    global _APT_UPDATED
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SetupError(
            f"{why} missing: install Debian's package(s) {' '.join(packages)} "
            f"(apt-get install {' '.join(packages)}), or run as root to have it done"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if not _APT_UPDATED:
        run(["apt-get", "update", "-qq"], env=env)
        _APT_UPDATED = True
    run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages], env=env)


def pg_bin():
    candidates = [os.environ.get("PG_BIN")] if os.environ.get("PG_BIN") else []
    if shutil.which("initdb"):
        candidates.append(os.path.dirname(os.path.realpath(shutil.which("initdb"))))
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for folder in candidates:
        if all(os.access(os.path.join(folder, b), os.X_OK) for b in ("initdb", "pg_ctl", "postgres")):
            return folder
    return None


def ensure_postgresql():
    with step("postgresql") as s:
        found = pg_bin()
        if found:
            s.done(f"{found}")
            return
        apt_install(["postgresql"], "PostgreSQL server binaries (initdb, pg_ctl, postgres)")
        found = pg_bin()
        if not found:
            raise SetupError("PostgreSQL was installed but initdb/pg_ctl/postgres are still not found: set PG_BIN")
        s.done(f"{found} (installed postgresql)")


def chromium_path():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def ensure_browser_and_pdf(browser=True):
    with step("chromium, wkhtmltopdf, pdftotext" if browser else "wkhtmltopdf") as s:
        missing = []
        if browser and not chromium_path():
            missing.append("chromium")
        if not shutil.which("wkhtmltopdf"):
            missing.append("wkhtmltopdf")
        # the tests read the Russian documents' PDFs back with pdftotext (docs/russian-documents.md)
        if browser and not shutil.which("pdftotext"):
            missing.append("poppler-utils")
        if missing:
            apt_install(missing, " and ".join(missing))
        found = [
            p
            for p in (
                (chromium_path() if browser else None),
                shutil.which("wkhtmltopdf"),
                (shutil.which("pdftotext") if browser else None),
            )
            if p
        ]
        s.done(", ".join(found) + (f" (installed {' '.join(missing)})" if missing else ""))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", action="store_true", help="what the demo needs (no browser)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        plan = odoo_source_plan()  # before anything is created: nothing to undo when it fails
        ensure_venv()
        src = ensure_odoo_source(plan)
        ensure_odoo_installed(src)
        ensure_project_requirements()
        ensure_postgresql()
        ensure_browser_and_pdf(browser=not args.demo)
    except SetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except subprocess.TimeoutExpired as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"setup: ready in {time.monotonic() - started:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
