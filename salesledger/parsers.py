"""The JSON parser of every API: DRF's, refusing with a 400 what no field could store.

Refused for the whole document, whatever field it is in, so no dialect meets it later:
- a string that is not encodable Unicode: a lone UTF-16 surrogate escape (`"\\ud800"`) parses into a
  Python str that neither an error message nor the database driver can encode;
- a number that is not finite: `NaN`/`Infinity` (DRF's strict JSON) and a literal past a double's
  range (`1e400`, which Python reads as infinity and no numeric or jsonb column can hold);
- nesting deeper than MAX_DEPTH (objects and arrays within each other): code that walks a document recursively
  (JSON encoders, copies) must never meet Python's recursion limit, which a document nested nearly that deep
  reached after parsing (a 500).

A UTF-8 document is decoded by msgspec, in a fifth of the time `json` takes. msgspec refuses all of the above
(and everything `json` refuses): what it refuses is parsed again by `json`, which words the error as before.
"""

import codecs
import io
import json
import math
import re

import msgspec
from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

_decode = msgspec.json.Decoder().decode
MAX_DEPTH = 256
NESTED_TOO_DEEPLY = "JSON parse error - nested too deeply."
# A lone surrogate can only come from a \uD800-\uDFFF escape: UTF-8 text never decodes to one.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ParseError(f"JSON parse error - the number {text[:40]} is out of range.")
    return value


def _constant(name: str):
    raise ParseError(f"JSON parse error - {name} is not a valid JSON number.")


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _unencodable_path(document) -> str | None:
    """Where the first string that UTF-8 cannot encode is: `sales.3.sale_currency`, or `a key of sales.3`."""
    stack = [((), document)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str) and not _encodable(value):
            return ".".join(map(str, path)) or "the document"
        if isinstance(value, dict):
            if not all(_encodable(key) for key in value):
                return "a key of " + (".".join(map(str, path)) or "the document")
            stack.extend(((*path, key), item) for key, item in value.items())
        elif isinstance(value, list):
            stack.extend(((*path, index), item) for index, item in enumerate(value))
    return None


def _deeper_than(document, limit: int) -> bool:
    """Whether objects and arrays nest in `document` more than `limit` deep (walked without recursion)."""
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
        if children is not None:
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in children)
    return False


def may_nest_too_deeply(text: bytes | str) -> bool:
    """Whether the JSON `text` has enough brackets to nest more than MAX_DEPTH deep (most have far fewer)."""
    opening = (b"[", b"{") if isinstance(text, bytes) else ("[", "{")
    return sum(map(text.count, opening)) > MAX_DEPTH


def _nested_too_deeply(text: bytes | str, document) -> bool:
    return may_nest_too_deeply(text) and _deeper_than(document, MAX_DEPTH)


class SafeJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        if codecs.lookup(encoding).name == "utf-8":
            body = stream.read()
            try:
                document = _decode(body)
            except (msgspec.DecodeError, RecursionError):
                stream = io.BytesIO(body)
            else:
                if _nested_too_deeply(body, document):
                    raise ParseError(NESTED_TOO_DEEPLY)
                return document
        try:
            text = codecs.getreader(encoding)(stream).read()
            document = json.loads(text, parse_constant=_constant, parse_float=_finite)
        except RecursionError:
            raise ParseError(NESTED_TOO_DEEPLY) from None
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from None
        if _SURROGATE_ESCAPE.search(text) and (path := _unencodable_path(document)) is not None:
            raise ParseError(f"JSON parse error - {path}: a string with a lone UTF-16 surrogate is not valid Unicode.")
        if _nested_too_deeply(text, document):
            raise ParseError(NESTED_TOO_DEEPLY)
        return document
