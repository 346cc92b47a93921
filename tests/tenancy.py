"""The tenant-isolation pattern every endpoint adds a case to.

A key of project B must not read, change or even detect project A's objects: each such request
answers exactly like a request for an object that does not exist at all (a 404 with the same body),
and changes nothing.
"""

import re
import uuid


def assert_invisible(client, method: str, path: str, missing_path: str, data=None):
    """`path` names project A's object, `missing_path` the same kind of object that doesn't exist.

    Project B's client gets the same status and body for both: it cannot tell them apart.
    """
    call = getattr(client, method.lower())
    kwargs = {"data": data, "format": "json"} if data is not None else {}
    seen = call(path, **kwargs)
    missing = call(missing_path, **kwargs)
    assert seen.status_code == 404, (path, seen.status_code, seen.content)
    assert missing.status_code == 404, (missing_path, missing.status_code, missing.content)
    assert _normalised(seen.json()) == _normalised(missing.json())


def missing_id() -> str:
    return str(uuid.uuid4())


def _normalised(body):
    """Bodies may echo the id that was asked for; compare them with ids masked."""
    text = str(body)
    return re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<id>", text)
