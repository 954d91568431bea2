"""CSV exports that a spreadsheet opens safely, streamed so that memory stays flat."""

import csv
import io
import re
from collections.abc import Iterable, Sequence

from flask import Response, stream_with_context

from portal.extensions import db

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


def stream_csv(filename: str, header: Sequence[str], rows: Iterable[Sequence], batch: int = 500) -> Response:
    """A CSV download written as it is read: a few hundred rows in memory at a time, however many there are.

    ``rows`` should be lazy (a generator over ``database.stream_rows``, or short batched reads);
    it runs inside the request's context, after the request's own transaction has ended.
    """

    def generate():
        # End the request's own transaction first: a slow download must hold no lock.
        db.session.close()
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(row(header))
        for count, values in enumerate(rows, start=1):
            writer.writerow(row(values))
            if count % batch == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    response = Response(stream_with_context(generate()), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
