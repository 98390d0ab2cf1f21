"""The code cites the project's own docs/, never a file outside the repository, and every
section it cites in docs/banks.md exists (issue #14 §6)."""

import pathlib
import re
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUTSIDE = re.compile(r"bank-apis\.md|DESIGN\.md|STYLE\.md|shared/samples")
BANKS_SECTION = re.compile(r"(?:docs/)?banks\.md\s*((?:§\s*[0-9][0-9a-z.]*(?:\s*(?:,|and|/)\s*)?)+)")
SECTION = re.compile(r"§\s*([0-9](?:[0-9a-z.]*[0-9a-z])?)")
HEADING = re.compile(r"^#{2,3}\s+([0-9](?:[0-9a-z.]*[0-9a-z])?)[.\s]", re.MULTILINE)


def tracked_sources():
    """The repository's text files as git knows them (docs/ included, the .po files not)."""
    names = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    suffixes = {".py", ".xml", ".js", ".md", ".rst", ".html", ".txt", ".cfg", ".toml", ".ini", ""}
    for name in names:
        path = ROOT / name
        if path.suffix in suffixes and path.is_file() and path.name != pathlib.Path(__file__).name:
            yield path


def test_no_reference_outside_the_repository():
    found = []
    for path in tracked_sources():
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if OUTSIDE.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}")
    assert not found, "references to files outside the repository:\n" + "\n".join(found)


def test_cited_sections_of_banks_md_exist():
    sections = set(HEADING.findall((ROOT / "docs" / "banks.md").read_text(encoding="utf-8")))
    assert {"1.7", "2.5", "4", "6"} <= sections  # the parser reads the headings
    missing = []
    for path in tracked_sources():
        text = path.read_text(encoding="utf-8", errors="replace")
        for citation in BANKS_SECTION.finditer(text):
            for section in SECTION.findall(citation.group(1)):
                top = section.split(".")[0]
                # a section without sub-headings (§6: a numbered list) is cited by its items: §6.4
                listed = top in sections and not any(other.startswith(f"{top}.") for other in sections)
                if section not in sections and not listed:
                    missing.append(f"{path.relative_to(ROOT)}: §{section}")
    assert not missing, "cited sections missing from docs/banks.md:\n" + "\n".join(sorted(set(missing)))
