"""What the request being served is, for code that has no request in hand (an event records its id)."""

import contextvars

current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("current_request_id", default="")
