"""import_sales_rows FILE --project SLUG: a large file of custobar sale rows, imported in batches."""

import os
import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apikeys.commands import project_by_slug
from sales.uploads.imports import FORMATS, READERS, BatchInvalid, FileUnreadable, sales_import


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
        try:
            stream = open(path, "rb")  # noqa: SIM115 (closed below, after the progress bar)
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.") from error
        progress = tqdm(
            total=os.fstat(stream.fileno()).st_size, unit="B", unit_scale=True, unit_divisor=1024,
            desc="import", file=options.get("stderr") or sys.stderr, mininterval=0.5,
        )  # fmt: skip

        def advance(done, upload, totals):
            progress.update(stream.tell() - progress.n)
            progress.set_postfix(rows=done)

        try:
            totals = sales_import(
                project=project, stream=stream, file_format=file_format, batch_size=options["batch_size"],
                skip=skip, on_batch=advance,
            )  # fmt: skip
        except BatchInvalid as error:
            raise CommandError(self._stopped(error, options=options)) from error
        except FileUnreadable as error:
            raise CommandError(
                f"{path}: {error.reason}. The first {error.imported} rows are imported; fix the file and resume with "
                f"--skip {error.imported}."
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

    def _stopped(self, error: BatchInvalid, *, options) -> str:
        start, count = error.start, error.count
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
