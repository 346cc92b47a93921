"""The fast path of POST /track/sale gives the serializer's validated data, or steps aside for the serializer."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salesledger.errors import ServiceError
from salesledger.parsers import MAX_DEPTH
from tracking.api.track import TrackSaleRequestSerializer, _fast_sale_call
from tracking.models import PaymentProcessor

FIELDS = list(TrackSaleRequestSerializer._declared_fields)
# Values on both sides of every field's rules: lengths, blanks, whitespace the serializer strips, NUL, emails,
# currencies in any case, choices, bounds of the amount, JSON types the serializer converts or refuses.
EDGE_TEXT = [
    "", " ", "x", " x", "x ", "\tx", "x\n", "a\u0000b", "\u2028x", "\u00a0x", "x\u3000", "c" * 99, "c" * 100,
    "c" * 101, "e" * 255, "e" * 256, "a" * 2048, "a" * 2049, "usd", "USD", "Eur", "xyz", " usd", "usd ", "us",
    "x@example.com", "not-an-email", "a" * 88 + "@example.com", "a" * 89 + "@example.com", "stripe", "Stripe",
    "paypal", *PaymentProcessor.values,
]  # fmt: skip
texts = st.one_of(st.sampled_from(EDGE_TEXT), st.text(max_size=8))
numbers = st.one_of(
    st.sampled_from([0, 1, -1, 1999, 2**53 - 1, 2**53, 2**64]),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
)
values = st.one_of(
    st.none(), texts, numbers, st.booleans(),
    st.dictionaries(st.text(max_size=4), st.one_of(st.none(), st.integers(), st.text(max_size=4)), max_size=3),
    st.lists(st.integers(), max_size=2), st.just({"note": "x" * 9990}), st.just({"note": "a\u0000b"}),
)  # fmt: skip
bodies = st.dictionaries(st.sampled_from([*FIELDS, "unknownKey"]), values, max_size=8)


def serializer_outcome(document):
    """What the serializer makes of a parsed body: its validated data, its errors, or the ServiceError raised."""
    serializer = TrackSaleRequestSerializer(data=document)
    try:
        return ("valid", serializer.validated_data) if serializer.is_valid() else ("invalid", serializer.errors)
    except ServiceError as error:
        return ("refused", str(error))


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.fixed_dictionaries({"customerExternalId": texts, "amount": numbers}).flatmap(
    lambda required: bodies.map(lambda rest: {**required, **rest})
) | bodies)  # fmt: skip
def test_the_fast_path_gives_the_serializers_data_or_none(body):
    raw = json.dumps(body).encode()
    expected = serializer_outcome(json.loads(raw))
    try:
        fast = _fast_sale_call.validated(raw)
    except ServiceError as error:
        assert expected == ("refused", str(error))
        return
    if fast is not None:
        assert expected == ("valid", fast)


def test_the_sdk_call_takes_the_fast_path():
    """What the SDKs send: every field, nulls for those unset; and with them all set."""
    sdk = {
        "customerExternalId": "cus-1", "amount": 1999, "currency": "usd", "eventName": "Purchase",
        "paymentProcessor": "stripe", "invoiceId": "in_1", "metadata": None, "leadEventName": None, "clickId": None,
        "customerName": None, "customerEmail": None, "customerAvatar": None,
    }  # fmt: skip
    full = {**sdk, "metadata": {"plan": "pro", "seats": 3}, "leadEventName": "Sign up", "clickId": "click-1",
            "customerName": "Ada", "customerEmail": "ada@example.com", "customerAvatar": "https://example.com/a.png",
            "currency": "EUR"}  # fmt: skip
    for body in (sdk, full, {"customerExternalId": "cus-1", "amount": 0}):
        raw = json.dumps(body).encode()
        fast = _fast_sale_call.validated(raw)
        assert fast is not None
        assert ("valid", fast) == serializer_outcome(json.loads(raw))


UNUSUAL = [
    b"", b"[]", b"not json", b'{"customerExternalId": " cus-1", "amount": 1}',
    b'{"customerExternalId": "c", "amount": 1.0}', b'{"customerExternalId": "c", "amount": 1, "customerEmail": "nope"}',
    b'\xef\xbb\xbf{"customerExternalId": "c", "amount": 1}', b'{"customerExternalId": "c", "amount": 1, "other": 1}',
    b'{"customerExternalId": "c", "amount": 1, "other": 1e400}',
    b'{"customerExternalId": "c", "amount": 1, "x": "\\ud800"}',
    b'{"customerExternalId": "c", "amount": 1, "metadata": {"a": 1e400}}',
    b'{"customerExternalId": "c", "amount": 1, "metadata": {"a": "\\ud800"}}',
]  # fmt: skip


@pytest.mark.parametrize("body", UNUSUAL)
def test_anything_unusual_is_left_to_the_serializer(body):
    assert _fast_sale_call.validated(body) is None


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/track/sale", "/track/lead"])
@pytest.mark.parametrize(("depth", "status"), [(MAX_DEPTH - 2, 200), (MAX_DEPTH - 1, 400), (880, 400), (895, 400)])
def test_metadata_nested_past_the_parsers_limit_is_a_400_never_a_500(api, path, depth, status):
    """The document nests `depth` + 2 deep (its object, metadata's, the arrays). Before the limit, metadata nested
    880 to 895 deep passed the parser and met Python's recursion limit later: a 500."""
    body = b'{"customerExternalId": "c", "amount": 1, "eventName": "Sign up", "clickId": "k", "metadata": {"a": '
    response = api.post(path, data=body + b"[" * depth + b"]" * depth + b"}}", content_type="application/json")
    assert response.status_code == status, response.content[:300]
    if status == 400:
        assert response.json()["error"]["message"] == "JSON parse error - nested too deeply."
