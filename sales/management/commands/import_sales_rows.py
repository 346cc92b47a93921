"""import_sales_rows FILE --project SLUG: a large file of custobar sale rows, imported in batches."""

import csv
import io
import json
import os
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import ijson
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apikeys.commands import project_by_slug
from sales.uploads.parse import LIST_FIELDS, ParsedRows, UploadInvalid, sale_rows_parse
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


def parsed_batches(rows: Iterator[tuple[int, list]], *, project) -> Iterator[tuple[int, ParsedRows]]:
    """(index of the first row, the batch parsed by `sale_rows_parse`): the next batch is read and parsed
    in a worker thread while the caller writes the current one, so Python and the database work at once."""

    def parse_next():
        item = next(rows, None)
        if item is None:
            return None
        start, batch = item
        return start, sale_rows_parse(project=project, rows=batch, row_offset=start)

    with ThreadPoolExecutor(max_workers=1) as worker:
        pending = worker.submit(parse_next)
        while (item := pending.result()) is not None:
            pending = worker.submit(parse_next)
            yield item


def _sale_id(row):
    return row.get("sale_external_id") if isinstance(row, dict) else None


class Command(BaseCommand):
    help = (
        'Import custobar sale rows from FILE: the document\'s JSON ({"sales": [...]}), JSON lines, or CSV with '
        "the same column names. Batches go through the same service as POST /api/sales/upload/, each all or "
        "nothing; a bad row stops the import and tells how to resume."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the file.")
        parser.add_argument("--project", required=True, help="Slug of the project the sales belong to.")
        parser.add_argument(
            "--format", choices=sorted(READERS), help="Default: from the extension (.json, .jsonl/.ndjson, .csv)."
        )
        parser.add_argument("--batch-size", type=int, default=5000, help="Rows per batch (default 5000).")
        parser.add_argument("--skip", type=int, default=0, help="Skip the first N rows (to resume an import).")

    def handle(self, *args, **options):
        path, slug, skip = options["file"], options["project"], options["skip"]
        project = project_by_slug(slug)
        file_format = options["format"] or FORMATS.get(os.path.splitext(path)[1].lower())
        if file_format is None:
            raise CommandError(f"Can't tell the format of {path}: pass --format json, jsonl or csv.")
        if options["batch_size"] < 1 or skip < 0:
            raise CommandError("--batch-size must be 1 or more and --skip 0 or more.")
        totals = dict.fromkeys(COUNTS, 0)
        try:
            stream = open(path, "rb")  # noqa: SIM115 (closed below, after the progress bar)
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.") from error
        progress = tqdm(
            total=os.fstat(stream.fileno()).st_size, unit="B", unit_scale=True, unit_divisor=1024,
            desc="import", file=options.get("stderr") or sys.stderr, mininterval=0.5,
        )  # fmt: skip
        try:
            rows = batches(READERS[file_format](stream), size=options["batch_size"], skip=skip)
            for start, parsed in parsed_batches(rows, project=project):
                try:
                    upload = sales_upload_parsed(project=project, parsed=parsed, wait=True)
                except UploadInvalid as error:
                    raise CommandError(
                        self._stopped(error, start=start, count=parsed.count, options=options)
                    ) from error
                for name in COUNTS:
                    totals[name] += getattr(upload, name)
                progress.update(stream.tell() - progress.n)
                progress.set_postfix(rows=skip + totals["rows"])
        except BadFile as error:
            imported = skip + totals["rows"]
            raise CommandError(
                f"{path}: {error}. The first {imported} rows are imported; fix the file and resume with "
                f"--skip {imported}."
            ) from error
        finally:
            progress.close()
            stream.close()
        if not totals["rows"]:
            raise CommandError(f"{path}: no sale rows found after row {skip}.")
        self.stdout.write(self.style.SUCCESS(
            f"Imported {totals['rows']} rows: {totals['transactions_created']} transactions created, "
            f"{totals['transactions_updated']} updated, {totals['transactions_unchanged']} unchanged; "
            f"{totals['lines_created']} sale rows created, {totals['lines_updated']} updated, "
            f"{totals['lines_deleted']} replaced; {totals['products_created']} products created."
        ))  # fmt: skip

    def _stopped(self, error: UploadInvalid, *, start, count, options) -> str:
        shown = [
            f"  row {problem['row']}: {problem['field'] or 'row'}: {problem['message']}" for problem in error.problems
        ]
        return "\n".join([
            f"Stopped at a bad batch: nothing of rows {start} to {start + count - 1} was written "
            f"(rows count from 0; rows before {start} are imported).",
            *shown,
            f"Fix the file, then resume with: python manage.py import_sales_rows {options['file']} "
            f"--project {options['project']} --skip {start}",
        ])  # fmt: skip
