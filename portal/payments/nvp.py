"""Payflow's name-value format, both ways (the gateway client and the offline Payflow sandbox).

Values are not URL-encoded: a pair is ``NAME=value`` and pairs are joined by ``&``. A value that
holds ``&`` or ``=`` (or anything but plain printable ASCII) is sent with a length tag,
``NAME[len]=value``, where ``len`` counts the value's bytes in UTF-8; the reader then takes exactly
that many bytes, whatever they contain.
"""

import re

_PLAIN = re.compile(r"[\x20-\x7e]*")
_NAME = re.compile(r"[A-Z0-9_]+")


class NVPError(ValueError):
    """A body that is not well-formed name-value pairs."""


def encode(pairs: dict[str, object]) -> bytes:
    """``{"AMT": "10.00", "COMMENT1": "a&b"}`` -> ``b"AMT=10.00&COMMENT1[3]=a&b"`` (None values left out)."""
    parts = []
    for name, value in pairs.items():
        if value is None:
            continue
        if not _NAME.fullmatch(name):
            raise NVPError(f"bad name {name!r}")
        raw = str(value).encode()
        text = str(value)
        if "&" in text or "=" in text or not _PLAIN.fullmatch(text):
            parts.append(f"{name}[{len(raw)}]=".encode() + raw)
        else:
            parts.append(f"{name}=".encode() + raw)
    return b"&".join(parts)


def decode(body: bytes | str) -> dict[str, str]:
    """The pairs of a request or response body; a name seen twice keeps its first value."""
    data = body.encode() if isinstance(body, str) else bytes(body)
    pairs: dict[str, str] = {}
    at = 0
    while at < len(data):
        equals = data.find(b"=", at)
        if equals < 0:
            raise NVPError(f"no '=' after byte {at}")
        key = data[at:equals].decode("ascii", "replace").strip()
        length = None
        tagged = re.fullmatch(r"([A-Za-z0-9_]+)\[(\d{1,6})\]", key)
        if tagged:
            key, length = tagged.group(1), int(tagged.group(2))
        if not re.fullmatch(r"[A-Za-z0-9_]+", key):
            raise NVPError(f"bad name {key!r}")
        start = equals + 1
        if length is not None:
            end = start + length
            if end > len(data) or (end < len(data) and data[end : end + 1] != b"&"):
                raise NVPError(f"{key}: the length tag does not match the value")
        else:
            end = data.find(b"&", start)
            end = len(data) if end < 0 else end
        try:
            value = data[start:end].decode()
        except UnicodeDecodeError as exc:
            raise NVPError(f"{key}: not UTF-8") from exc
        pairs.setdefault(key.upper(), value)
        at = end + 1
    return pairs
