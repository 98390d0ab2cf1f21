"""Text normalisation for matching: one canonical form of purposes, names and invoice
numbers (Cyrillic look-alikes, number signs, dashes and slashes), and the INN and account
clean-up. Never stored: for comparing only."""

import re
import unicodedata

# Cyrillic letters that look like Latin ones (applied after casefold, so upper case too).
_LOOKALIKES = {
    "а": "a",
    "в": "b",
    "е": "e",
    "ё": "e",
    "к": "k",
    "м": "m",
    "н": "h",
    "о": "o",
    "р": "p",
    "с": "c",
    "т": "t",
    "у": "y",
    "х": "x",
    "і": "i",
    "ј": "j",
    "ѕ": "s",
    "һ": "h",
    "ԛ": "q",
    "ԝ": "w",
    "ӏ": "l",
}
_PUNCTUATION = {
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d", "-"),
    **dict.fromkeys("\u2044\u2215\u29f8\\", "/"),
}
_TEXT_TABLE = str.maketrans({**_LOOKALIKES, **_PUNCTUATION})
_PATTERN_TABLE = str.maketrans(_LOOKALIKES)

_SIGN = "\x01"  # stands for "№" while NFKC (which spells it "No") runs
_NUMBER_SIGN_RE = re.compile(r"(?<![^\W_])(?:no|n°|n)\.?\s*(?=\d)|#\s*(?=\d)")
_DIGIT_LETTER_RE = re.compile(r"(?<=\d)(?=[^\W\d_])")
_OT_GLUED_RE = re.compile(r"(?<![^\W_])ot(?=\d)")  # "от01.02.2026" (о, т are look-alikes)
_SLASH_SPACES_RE = re.compile(r"\s*/\s*")
_DASH_DIGIT_RE = re.compile(r"(?<=[^\W_])\s*-\s*(?=\d)")
_SPACES_RE = re.compile(r"\s+")


def _compile(pattern: str, flags: int = 0) -> "re.Pattern":
    """Compile a lowercase pattern written in plain Russian against normalised text: its
    Cyrillic look-alike letters are mapped exactly as `normalize_text` maps the text."""
    return re.compile(pattern.translate(_PATTERN_TABLE), flags)


def normalize_text(text: str | None) -> str:
    """Canonical form of a purpose, name or invoice number, for matching only (never store
    it): NFKC, casefold, Cyrillic look-alike letters → Latin (``"СЧ"`` → ``"cч"``,
    ``"ІNV"`` → ``"inv"``), ``ё`` → ``е``, every dash → ``-``, every slash → ``/``,
    ``№``/``N``/``No.``/``Nº``/``#`` before a number → `` № ``, a digit glued to a
    following letter split off (``"12от"`` → ``"12 от"``), spaces around ``/`` and number
    dashes removed, whitespace collapsed.

    ``normalize_text("Оплата по счету №INV / 2026 / 00012")`` ==
    ``"oплata пo cчety № inv/2026/00012"``.
    """
    if not text:
        return ""
    s = unicodedata.normalize("NFKC", text.replace("№", _SIGN)).casefold().translate(_TEXT_TABLE)
    s = _NUMBER_SIGN_RE.sub(_SIGN, s)
    s = _DIGIT_LETTER_RE.sub(" ", s)
    s = _OT_GLUED_RE.sub("ot ", s)
    s = s.replace(_SIGN, " № ")
    s = _SLASH_SPACES_RE.sub("/", s)
    s = _DASH_DIGIT_RE.sub("-", s)
    return _SPACES_RE.sub(" ", s).strip()


_NOT_DIGITS_RE = re.compile(r"\D+")


def _clean_inn(inn) -> str | None:
    """Digits of a 10/12-digit INN, or ``None`` (absent, ``"0"``, malformed)."""
    if not inn:
        return None
    digits = _NOT_DIGITS_RE.sub("", str(inn))
    return digits if len(digits) in (10, 12) and digits.strip("0") else None


def _clean_account(account) -> str | None:
    """Account number without spaces, or ``None``."""
    if not account:
        return None
    text = "".join(str(account).split()).upper()
    return text if len(text) >= 5 and text.strip("0") else None
