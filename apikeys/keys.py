"""The key format: `sl_live_<prefix>_<secret>`, generated, parsed and hashed in one place."""

import hashlib
import re
import secrets
import string

KEY_PREFIX = "sl_live_"
PREFIX_LENGTH = 8
SECRET_LENGTH = 40  # base62: about 238 bits, far beyond guessing.
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits
KEY_PATTERN = re.compile(rf"^{KEY_PREFIX}([a-z0-9]{{{PREFIX_LENGTH}}})_([A-Za-z0-9]{{{SECRET_LENGTH}}})$")


def generate() -> tuple[str, str]:
    """A new (full key, public prefix)."""
    prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))
    secret = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(SECRET_LENGTH))
    return f"{KEY_PREFIX}{prefix}_{secret}", prefix


def parse_prefix(key: str) -> str | None:
    """The lookup prefix of a well-formed key, or None for anything else."""
    match = KEY_PATTERN.match(key)
    return match.group(1) if match else None


def hash_key(key: str) -> str:
    """SHA-256: keys are high-entropy random strings, so a slow password hasher buys nothing."""
    return hashlib.sha256(key.encode()).hexdigest()


def constant_time_equal(left: str, right: str) -> bool:
    return secrets.compare_digest(left, right)
