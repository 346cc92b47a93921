"""Log formatting: one line per record, whatever a client put in the fields it logs."""

import logging
import re

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape_controls(text: str) -> str:
    r"""Control characters as Python escapes: a path with `%0d%0a` logs as `\r\n`, not as a new line."""
    return _CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)


class OneLineFormatter(logging.Formatter):
    """Escapes control characters in the formatted message, so no logged field can forge a line.

    A traceback, appended after the message, keeps its own lines.
    """

    def formatMessage(self, record):
        return escape_controls(super().formatMessage(record))
