"""A scanner for card data at rest (issue #10, point 4): card numbers and CVVs.

What counts as a card number: 13 to 19 digits, optionally grouped by single spaces or dashes,
not glued to other letters or digits, that pass the Luhn check *and* start like an issued
card (first digit 3-6, or the Mastercard 2221-2720 range). The prefix rule keeps millisecond
timestamps and other long numbers (which start with 1) from failing the scan by chance: one in
ten random digit strings is Luhn-valid. Every test card number of the sandbox passes it.

What counts as a CVV: a ``cvv``/``cvv2``/``cvc``/``cvc2``/``security_code``/``card_code`` key
(JSON, form-encoded, ``key: value``, ``key=value`` or XML ``<cvv>123</cvv>``) holding 3 or 4 digits.

Braintree test nonces (``fake-valid-visa-nonce``) are not card data: they stand for a card the
processor holds, exactly like the real single-use nonces, and are worthless once consumed.
"""

import contextlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from pathlib import Path
from urllib.parse import unquote_plus

CARD_CANDIDATE = re.compile(r"(?<![0-9A-Za-z])\d(?:[ -]?\d){12,18}(?![0-9A-Za-z])")
CVV_KEYS = r"(?:cvv2?|cvc2?|security[_ -]?code|card[_ -]?code)"
CVV_PATTERNS = [
    # "cvv": "123", cvv=123, cvv: 123, 'security_code': '1234', cvv2 = 123
    re.compile(rf"(?i)(?<![A-Za-z0-9]){CVV_KEYS}[\"']?\s*[:=]\s*[\"']?(\d{{3,4}})(?![0-9])"),
    # <cvv>123</cvv>
    re.compile(rf"(?i)<({CVV_KEYS})>\s*(\d{{3,4}})\s*</\1>"),
]


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def issued_prefix(digits: str) -> bool:
    """Starts like a major network's card (Amex/Diners/JCB 3, Visa 4, MC/Maestro 5, Discover 6, MC 2xxx)."""
    return digits[0] in "3456" or 2221 <= int(digits[:4]) <= 2720


def card_numbers_in(text: str) -> list[str]:
    found = []
    for match in CARD_CANDIDATE.finditer(text):
        digits = re.sub(r"[ -]", "", match.group())
        if 13 <= len(digits) <= 19 and luhn_valid(digits) and issued_prefix(digits):
            found.append(digits)
    return found


def cvvs_in(text: str) -> list[str]:
    return [match.group(0) for pattern in CVV_PATTERNS for match in pattern.finditer(text)]


def _cvv_keys_in(value, path="") -> Iterator[str]:
    """CVV-looking keys in decoded JSON (whatever their nesting)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if re.fullmatch(CVV_KEYS, str(key), re.IGNORECASE) and re.fullmatch(r"\s*\d{3,4}\s*", str(item)):
                yield f"{path}{key}={item}"
            yield from _cvv_keys_in(item, f"{path}{key}.")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _cvv_keys_in(item, f"{path}{index}.")


@dataclass(frozen=True)
class Finding:
    where: str  # "table payments.failure_code row 3", "log portal.access", "outbox/000001.eml"
    kind: str  # "card number" / "cvv"
    value: str

    def __str__(self) -> str:
        return f"{self.kind} {self.value!r} in {self.where}"


def scan_text(text: str, where: str) -> list[Finding]:
    """``text`` as it is and, when it has %-escapes or '+', URL-decoded (a card number in a URL)."""
    findings = [Finding(where, "card number", number) for number in card_numbers_in(text)]
    findings += [Finding(where, "cvv", cvv) for cvv in cvvs_in(text)]
    if "%" in text or "+" in text:
        decoded = unquote_plus(text)
        findings += [Finding(where, "card number", number) for number in card_numbers_in(decoded)]
        findings += [Finding(where, "cvv", cvv) for cvv in cvvs_in(decoded)]
    return list(dict.fromkeys(findings))


def scan_value(value, where: str) -> list[Finding]:
    """A column value: text, bytes, or JSON (already decoded, or as a string)."""
    if value is None or isinstance(value, bool | int | float):
        # Numbers are amounts, counts and ids; a card number is never stored as an integer column
        # here, but a 13-19 digit integer is still checked as text.
        if isinstance(value, int) and not isinstance(value, bool) and value >= 10**12:
            return scan_text(str(value), where)
        return []
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, dict | list):
        findings = [Finding(where, "cvv", found) for found in _cvv_keys_in(value)]
        return findings + scan_text(json.dumps(value, ensure_ascii=False), where)
    text = str(value)
    findings = scan_text(text, where)
    if text[:1] in "[{":
        with contextlib.suppress(ValueError):
            findings += [Finding(where, "cvv", found) for found in _cvv_keys_in(json.loads(text))]
    return findings


def scan_database(session, metadata) -> list[Finding]:
    """Every column of every table of ``metadata`` (text, JSON, and long integers)."""
    findings = []
    for table in metadata.sorted_tables:
        for number, row in enumerate(session.execute(table.select())):
            for column, value in zip(table.columns, row, strict=True):
                findings += scan_value(value, f"table {table.name}.{column.name} row {number}")
    return findings


def scan_log_records(records: Iterable) -> list[Finding]:
    """Formatted messages, extra fields (the access log's path, query...) and tracebacks."""
    standard = {
        "name", "msg", "args", "levelname", "levelno", "pathname", "filename", "module", "exc_info",
        "exc_text", "stack_info", "lineno", "funcName", "created", "msecs", "relativeCreated", "thread",
        "threadName", "processName", "process", "taskName", "message", "asctime",
    }  # fmt: skip
    findings = []
    for record in records:
        where = f"log {record.name}"
        parts = [record.getMessage(), record.exc_text or "", record.stack_info or ""]
        if record.exc_info and record.exc_info[1] is not None:
            parts.append(repr(record.exc_info[1]))
        parts += [f"{key}={value!r}" for key, value in vars(record).items() if key not in standard]
        findings += scan_text("\n".join(parts), where)
    return findings


# Random numbers the email package puts in every message (up to 19 digits, so one in about 25 looks
# like a card): the Message-ID's (make_msgid: <time.pid.random@domain>) and the MIME boundaries'.
MESSAGE_ID = re.compile(rb"(?im)^(Message-ID:\s*<)[^>\r\n]*(>)")
BOUNDARY = re.compile(rb"={15}\d+==")


def scan_email(raw: bytes, where: str) -> list[Finding]:
    """A message as written (raw) and as read (every MIME part decoded: base64, quoted-printable)."""
    raw = BOUNDARY.sub(b"=boundary=", MESSAGE_ID.sub(rb"\1message-id\2", raw))
    findings = scan_text(raw.decode("utf-8", "replace"), where)
    message = message_from_bytes(raw, policy=policy.default)
    for part in message.walk():
        if part.is_multipart():
            continue
        content = part.get_payload(decode=True) or b""
        findings += scan_text(content.decode("utf-8", "replace"), f"{where} ({part.get_content_type()})")
    return sorted(set(findings), key=str)


def scan_eml_files(folder: Path) -> list[Finding]:
    findings = []
    for path in sorted(Path(folder).glob("**/*.eml")):
        findings += scan_email(path.read_bytes(), f"mail file {path.name}")
    return findings
