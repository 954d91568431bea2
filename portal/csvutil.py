"""CSV exports that a spreadsheet opens safely."""

import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def cell(value) -> str:
    """A value as text; one that a spreadsheet would run as a formula gets a leading quote.

    Plain numbers (a negative net such as -3.25) stay numbers.
    """
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def row(values) -> list[str]:
    return [cell(value) for value in values]
