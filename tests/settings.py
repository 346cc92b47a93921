"""Settings for the test suite: production settings with a throwaway secret and fast hashing."""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-only-secret-key")
# A request's log row is written before its answer, so a test reads it at once (tests of the buffer
# itself, and the servers they start, set their own).
os.environ.setdefault("REQUEST_LOG_FLUSH_SECONDS", "0")

from salesledger.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# seed_demo's key file, never the checkout's.
DEMO_KEY_FILE = os.path.join(tempfile.mkdtemp(prefix="salesledger-tests-"), "demo-api-key")
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
