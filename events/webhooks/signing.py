"""Standard Webhooks: the secret, the body and the signed headers (with the `standardwebhooks` library)."""

import base64
import json
import secrets
from datetime import datetime

from django.core.serializers.json import DjangoJSONEncoder
from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"


def secret_generate() -> str:
    """A new signing secret: `whsec_` and 32 random bytes in base64, as Standard Webhooks receivers expect."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def body_encode(payload: dict) -> str:
    return json.dumps(payload, cls=DjangoJSONEncoder, separators=(",", ":"), ensure_ascii=False)


def headers_sign(*, secret: str, message_id: str, timestamp: datetime, body: str) -> dict[str, str]:
    """The `webhook-id`, `webhook-timestamp` and `webhook-signature` headers of one request."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, timestamp, body),
    }
