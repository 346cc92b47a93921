"""`python -m salesledger.preflight`: one line instead of a traceback when the settings or the database
are wrong (dev.py runs it before migrating or running a command); exit status 1 then."""

import os
import sys


def problem() -> str | None:
    """What keeps the project from starting, in one line, or None."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesledger.settings")
    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ImproperlyConfigured as error:
        return f"Configuration error: {error}"
    from django.db import OperationalError, connection

    try:
        connection.ensure_connection()
    except OperationalError as error:
        database = connection.settings_dict
        where = database["NAME"] if database["ENGINE"].endswith("sqlite3") else (
            f"{database['NAME']} at {database['HOST'] or 'localhost'}:{database['PORT'] or 'default port'}"
        )  # fmt: skip
        reason = " ".join(str(error).split("\n")[0].split()) or type(error).__name__
        return (
            f"Cannot connect to the database {where} ({reason}): start its server, create it, "
            "or fix DATABASE_URL (unset it to use SQLite)."
        )
    return None


if __name__ == "__main__":
    message = problem()
    if message:
        print(message, file=sys.stderr)
        sys.exit(1)
