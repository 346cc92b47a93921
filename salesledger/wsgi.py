"""WSGI entry point for gunicorn: `gunicorn salesledger.wsgi`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesledger.settings")

application = get_wsgi_application()
