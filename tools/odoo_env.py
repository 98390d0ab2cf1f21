"""Find Odoo 18.0 the standard ways, and run it with this project's addons.

Looked for, in this order:
1. ``ODOO_SRC``: an Odoo 18.0 source tree (the folder holding ``odoo/`` and ``addons/``);
2. ``.state/odoo-src``: the source tools/setup.py unpacked or cloned;
3. an importable ``odoo`` package (pip install, Debian package, ``.pth`` file).

    python3 tools/odoo_env.py check          # one line: where Odoo is, or what is missing
    python3 tools/odoo_env.py run -- ARGS    # odoo-bin ARGS with our addons path
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERIES = "18.0"


class OdooNotFound(Exception):
    pass


def _series_of(src):
    release = Path(src) / "odoo" / "release.py"
    scope = {}
    exec(compile(release.read_text(), str(release), "exec"), scope)
    return scope.get("series")


def _python_finds_odoo():
    """(source root, series) of the `odoo` package the interpreter imports, or None."""
    probe = (
        "import os, odoo.release as r; "
        "print(os.path.dirname(os.path.dirname(os.path.abspath(r.__file__)))); print(r.series)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd="/")
    if result.returncode != 0:
        return None
    root, series = result.stdout.split()[-2:]
    return Path(root), series


def locate():
    """Return (source_root or None, addons dirs) of a usable Odoo 18.0, else OdooNotFound."""
    for label, src in (("ODOO_SRC", os.environ.get("ODOO_SRC")), (".state/odoo-src", ROOT / ".state" / "odoo-src")):
        if not src:
            continue
        src = Path(src)
        if not (src / "odoo" / "release.py").exists():
            if label == "ODOO_SRC":
                raise OdooNotFound(f"ODOO_SRC={src} is not an Odoo source tree (no odoo/release.py)")
            continue
        series = _series_of(src)
        if series != SERIES:
            raise OdooNotFound(f"{label} points to Odoo {series}, this addon needs {SERIES}")
        return src, _addons_dirs(src)
    found = _python_finds_odoo()
    if found:
        src, series = found
        if series != SERIES:
            raise OdooNotFound(f"{sys.executable} imports Odoo {series}; this addon needs {SERIES}")
        return src, _addons_dirs(src)
    raise OdooNotFound(
        f"Odoo {SERIES} not found: {sys.executable} cannot import `odoo` and ODOO_SRC is not set. "
        f"Install Odoo 18.0 (pip install -e <odoo-src> or a .pth file), set ODOO_SRC=<odoo-src>, "
        f"or let `python3 tools/setup.py` (run by `make test` and `make demo`) set it up"
    )


def _addons_dirs(src):
    dirs = [str(ROOT)]
    for candidate in (src / "addons",):
        if (candidate / "account").is_dir() or (candidate / "base").is_dir():
            dirs.append(str(candidate))
    return dirs


def odoo_command(src):
    """argv prefix that starts Odoo's command line from `src` with our addons path; a
    sub-command (shell, ...) may follow it. A real script (odoo-bin, or the package's
    __main__), because Odoo in multi-worker mode starts its websocket (gevent) process by
    running its own argv[0] again."""
    addons = f"--addons-path={','.join(_addons_dirs(src))}"
    odoo_bin = Path(src) / "odoo-bin"
    if odoo_bin.exists():
        return [sys.executable, str(odoo_bin), addons]
    return [sys.executable, "-m", "odoo", addons]


def base_args(db_port, db_name=None):
    """Common odoo-bin options for the private cluster (after the command, if any)."""
    args = ["--db_host", "127.0.0.1", "--db_port", str(db_port), "--db_user", "odoo", "--db_password", "odoo"]
    if db_name:
        args += ["-d", db_name, "--db-filter", f"^{db_name}$"]
    return args


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        src, addons = locate()
    except OdooNotFound as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not argv or argv[0] == "check":
        print(f"Odoo {SERIES} at {src} (addons: {', '.join(addons)})")
        return 0
    if argv[0] == "run":
        args = argv[2:] if argv[1:2] == ["--"] else argv[1:]
        os.execv(sys.executable, odoo_command(src) + args)
    print(f"error: unknown command {argv[0]!r} (use check or run)", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
