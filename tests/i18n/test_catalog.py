"""Every user-facing string in the source has a French translation with the same placeholders."""

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
FRENCH_PO = ROOT / "portal" / "translations" / "fr" / "LC_MESSAGES" / "messages.po"
# The same keywords as `make catalogs` (pybabel extract -k lazy_gettext -k _l).
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "_l": None}
# %(name)s / %s conversions, and str.format fields such as {code} (the coupon mail's template).
PERCENT = re.compile(r"%(?:\((\w+)\))?[-#0 +]*\d*(?:\.\d+)?([sdifr%])")
BRACES = re.compile(r"\{(\w*)\}")


def source_messages() -> dict[str, str | tuple[str, ...]]:
    """msgid -> the message as extracted (a tuple for plurals), with where it was found."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault(msgid, (message, f"{filename}:{lineno}"))
    return found


def placeholders(text: str) -> tuple:
    named = sorted(f"%({n}){c}" for n, c in PERCENT.findall(text) if n)
    positional = sorted(c for n, c in PERCENT.findall(text) if not n and c != "%")
    return named, positional, sorted(BRACES.findall(text))


@pytest.fixture(scope="module")
def extracted():
    return source_messages()


@pytest.fixture(scope="module")
def french():
    with FRENCH_PO.open("rb") as po:
        return read_po(po, locale="fr")


def test_the_source_has_strings_to_translate(extracted):
    # A guard on the extraction itself: pages, Python messages and the plain-text mail are all seen.
    assert {"Log in", "Payments ledger", "Enter a number, such as 12.50.", "Take it here:"} <= set(extracted)
    assert len(extracted) > 900


def test_every_source_string_is_in_the_french_catalog(extracted, french):
    missing = [f"{msgid!r} ({where})" for msgid, (_m, where) in extracted.items() if msgid not in french]
    assert not missing, "not in the French catalog (run `make catalogs`, then translate):\n" + "\n".join(
        missing
    )


def test_every_french_entry_is_translated_and_not_fuzzy(extracted, french):
    problems = []
    for msgid in extracted:
        entry = french.get(msgid)
        if entry is None:
            continue  # reported by the test above
        forms = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if entry.fuzzy:
            problems.append(f"fuzzy: {msgid!r}")
        elif not all(form.strip() for form in forms) or len(forms) != (
            french.num_plurals if entry.pluralizable else 1
        ):
            problems.append(f"untranslated: {msgid!r}")
    assert not problems, "\n".join(problems)


def test_plurals_in_the_source_are_plurals_in_the_catalog(extracted, french):
    wrong = [
        msgid
        for msgid, (message, _where) in extracted.items()
        if msgid in french and isinstance(message, tuple) != french.get(msgid).pluralizable
    ]
    assert not wrong, wrong


def test_translations_keep_the_placeholders_and_line_breaks(extracted, french):
    problems = []
    for msgid in extracted:
        entry = french.get(msgid)
        if entry is None or entry.fuzzy:
            continue
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        forms = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        expected = placeholders(ids[-1])
        for form in forms:
            if form and placeholders(form) != expected:
                problems.append(f"{msgid!r}: {placeholders(form)} instead of {expected}")
            if form and (form.endswith("\n") != ids[0].endswith("\n")):
                problems.append(f"{msgid!r}: the final line break differs")
    assert not problems, "\n".join(problems)


def test_placeholder_check_catches_a_renamed_or_lost_placeholder():
    assert placeholders("Hello %(name)s, {code}") == placeholders("Bonjour %(name)s, {code}")
    assert placeholders("Hello %(name)s") != placeholders("Bonjour %(nom)s")
    assert placeholders("%(num)d users") != placeholders("%(num)s utilisateurs")
    assert placeholders("Tax (%(percent)s%%)") == placeholders("Taxe (%(percent)s\u00a0%%)")
    assert placeholders("Type it: {link}") != placeholders("Saisissez-le")
