"""Operations the project's migrations share: SQL that differs per database, and an index dropped by name.

Migrations import these by path, so their behaviour must never change once a migration uses them.
"""

from django.db import migrations


def sql_per_database(statements: dict):
    """A RunPython function running `statements[vendor]` (one SQL string or a list) on the migrating
    database; a database with no entry is refused rather than left without them (triggers, say)."""

    def run(apps, schema_editor):
        sql = statements.get(schema_editor.connection.vendor)
        if sql is None:
            raise NotImplementedError(f"no statements for {schema_editor.connection.vendor}")
        for statement in [sql] if isinstance(sql, str) else sql:
            schema_editor.execute(statement, params=None)

    return run


def index_dropped(name: str, table: str, column: str) -> migrations.RunSQL:
    """Drop the index `name` (created again on `table (column)` when migrating back). By name, not by
    AlterField: on SQLite AlterField rebuilds the table, which loses its triggers (the sales rollups')."""
    return migrations.RunSQL(f"DROP INDEX {name}", reverse_sql=f"CREATE INDEX {name} ON {table} ({column})")
