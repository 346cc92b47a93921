"""Files of custobar sale rows imported in batches: the one service behind `import_sales_rows` and the
import jobs of `POST /api/v1/imports/`.

The document's JSON (`{"sales": [...]}`), JSON lines or CSV with the same column names, streamed: memory
stays flat whatever the file's size. Each batch goes through `sales_upload_parsed`, all or nothing; a bad
batch stops the import, and everything before it stays imported (resume with `skip`).
"""

import csv
import io
import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import ijson
from django.db import transaction

from sales.uploads.decode import sale_rows_read
from sales.uploads.models import Upload
from sales.uploads.parse import LIST_FIELDS, ParsedRows, UploadInvalid
from sales.uploads.services import sales_upload_parsed

COUNTS = (
    "rows", "transactions_created", "transactions_updated", "transactions_unchanged",
    "lines_created", "lines_updated", "lines_deleted", "products_created",
)  # fmt: skip
FORMATS = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}


class BadFile(Exception):
    """The file itself can't be read on (not JSON, a CSV row longer than its header)."""


def json_document_rows(stream) -> Iterator:
    """The rows of `{"sales": [...]}`, parsed incrementally: memory stays flat whatever the file's size."""
    try:
        yield from ijson.items(stream, "sales.item", use_float=True)
    except ijson.JSONError as error:
        raise BadFile(f"not valid JSON: {error}") from error


@contextmanager
def text_of(stream, **kwargs):
    """The binary `stream` read as UTF-8 text, left open afterwards (the caller still reads its position)."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", **kwargs)
    try:
        yield text
    except UnicodeDecodeError as error:
        raise BadFile(f"not UTF-8 text ({error.reason})") from error
    finally:
        text.detach()


def json_lines_rows(stream) -> Iterator:
    """One JSON object per line; blank lines are skipped."""
    with text_of(stream) as lines:
        for number, line in enumerate(lines, start=1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as error:
                    raise BadFile(f"line {number} is not JSON: {error.msg}") from error
                except RecursionError:
                    raise BadFile(f"line {number} is JSON nested too deeply") from None


def csv_rows(stream) -> Iterator:
    """A header of the document's field names, a row per line. Empty cells are not sent; the list fields
    (tags, sale_tags, sale_coupon_codes) are comma-separated within their cell."""
    with text_of(stream, newline="") as text:
        reader = csv.DictReader(text)
        for row in reader:
            if any(row.pop(None, None) or ()):
                raise BadFile(f"line {reader.line_num} has more cells than the header has columns")
            yield {
                name: [item.strip() for item in value.split(",") if item.strip()] if name in LIST_FIELDS else value
                for name, value in row.items()
                if value
            }


READERS = {"json": json_document_rows, "jsonl": json_lines_rows, "csv": csv_rows}


def batches(rows: Iterator, *, size: int, skip: int) -> Iterator[tuple[int, list]]:
    """(index of the first row, rows) of at least `size` rows, never splitting a run of rows of one
    transaction: rows without row ids replace their transaction's rows, so they must arrive together."""
    batch, start = [], skip
    for index, row in enumerate(rows):
        if index < skip:
            continue
        if len(batch) >= size and _sale_id(row) != _sale_id(batch[-1]):
            yield start, batch
            batch, start = [], index
        batch.append(row)
    if batch:
        yield start, batch


def parsed_batches(rows: Iterator[tuple[int, list]], *, project, typed: bool) -> Iterator[tuple[int, ParsedRows]]:
    """(index of the first row, the batch parsed by `sale_rows_read`): the next batch is read and parsed
    in a worker thread while the caller writes the current one, so Python and the database work at once."""

    def parse_next():
        item = next(rows, None)
        if item is None:
            return None
        start, batch = item
        return start, sale_rows_read(project=project, rows=batch, row_offset=start, typed=typed)

    with ThreadPoolExecutor(max_workers=1) as worker:
        pending = worker.submit(parse_next)
        while (item := pending.result()) is not None:
            pending = worker.submit(parse_next)
            yield item


def _sale_id(row):
    return row.get("sale_external_id") if isinstance(row, dict) else None


class BatchInvalid(Exception):
    """A batch has bad rows: nothing of it was written, the rows before `start` are imported."""

    def __init__(self, error: UploadInvalid, *, start: int, count: int):
        super().__init__(error.message)
        self.problems, self.start, self.count = error.problems, start, count


class FileUnreadable(Exception):
    """The file can't be read on (`reason`); the first `imported` rows are imported."""

    def __init__(self, reason: str, *, imported: int):
        super().__init__(reason)
        self.reason, self.imported = reason, imported


def sales_import(
    *,
    project,
    stream,
    file_format: str,
    batch_size: int = 5000,
    skip: int = 0,
    on_batch: Callable[[int, Upload, dict], None] | None = None,
    user=None,
    api_key=None,
) -> dict:
    """Import the rows of `stream` (binary) after the first `skip`, in batches of about `batch_size` rows;
        returns the totals (`COUNTS`). `on_batch(rows imported so far, the batch's Upload, totals)` runs in
        the batch's own transaction: what it writes commits with the batch, or not at all. The uploads record
    `user` and `api_key`.

        Raises BatchInvalid (nothing of that batch written), FileUnreadable (not JSON, not UTF-8...).
    """
    totals = dict.fromkeys(COUNTS, 0)
    rows = batches(READERS[file_format](stream), size=batch_size, skip=skip)
    try:
        for start, parsed in parsed_batches(rows, project=project, typed=file_format != "csv"):
            try:
                with transaction.atomic():
                    # `wait`: an API upload of the project running meanwhile delays the batch, never fails it.
                    upload = sales_upload_parsed(project=project, parsed=parsed, user=user, api_key=api_key, wait=True)
                    for name in COUNTS:
                        totals[name] += getattr(upload, name)
                    if on_batch is not None:
                        on_batch(start + parsed.count, upload, totals)
            except UploadInvalid as error:
                raise BatchInvalid(error, start=start, count=parsed.count) from error
    except BadFile as error:
        raise FileUnreadable(str(error), imported=skip + totals["rows"]) from error
    return totals


def rows_count(stream, file_format: str) -> int:
    """How many rows the file holds (one streaming pass); raises FileUnreadable."""
    try:
        return sum(1 for _ in READERS[file_format](stream))
    except BadFile as error:
        raise FileUnreadable(str(error), imported=0) from error
