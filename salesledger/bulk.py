"""Many rows of a model in one PostgreSQL statement, bound as one JSON document.

psycopg's client-side binding (the project's cursors) quotes every parameter, and every element of an
array parameter, in Python, and splits the statement at each placeholder: for thousands of rows that
costs more than the insert itself. One JSON text parameter is quoted at once, and PostgreSQL's
`jsonb_to_recordset` turns it back into typed rows.
"""

from django.db import connection


def json_recordset(model, names: list[str]) -> tuple[str, str]:
    """(the columns of `model`'s fields `names` (attnames) for an INSERT, a `SELECT` of them from the
    one parameter): bind a JSON array of objects keyed by those attnames."""
    fields = [model._meta.get_field(name) for name in names]  # (get_field knows attnames too)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    record = ", ".join(f"{quote(name)} {field.db_type(connection)}" for name, field in zip(names, fields, strict=True))
    return columns, f"SELECT * FROM jsonb_to_recordset(%s::jsonb) AS row({record})"
