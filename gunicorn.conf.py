"""gunicorn's settings, read from the working directory by `gunicorn salesledger.wsgi`.

The request limits are set on purpose (see the README's production section): gunicorn refuses what
passes them itself, in plain HTML, before Django sees the request.
"""

import os

bind = os.environ.get("BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
# A request that runs longer is killed (gunicorn answers 500); uploads are bounded well under it.
timeout = 30
graceful_timeout = 30
keepalive = 5
# The request line (method, path and query): gunicorn's maximum, for long filter queries. Past it: 414.
limit_request_line = 8190
# Header count and the size of one header line. Past them: 431 and 400.
limit_request_fields = 100
limit_request_field_size = 8190
