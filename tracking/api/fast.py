"""The fast path of `POST /track/sale`: msgspec decodes the body of an ordinary call, as the SDKs send it, straight
into the serializer's validated data, without DRF's parsing and per-field validation (a tenth of the call's CPU).

The struct is made from the serializer's own fields (their lengths, choices, bounds and defaults), and accepts a
subset of what the serializer accepts, with the same result: strings the serializer keeps as they are (no
whitespace around them to strip, no NUL, no lone surrogate), whole numbers as JSON integers, the choices as
written, no other keys. Anything else (a number where text is expected, `1999.0`, a value out of bounds, an
unknown key, brackets enough to nest past the parser's limit, not JSON, another content type) makes it answer
None, and the view runs the serializer, which words every error as before. The serializer's own methods
(`validate_<field>`, `validate`) finish the call, so the validated data is theirs.
"""

from typing import Annotated, Literal

import msgspec
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.fields import empty

from salesledger.parsers import may_nest_too_deeply

# A string DRF's CharField keeps unchanged: nothing its `strip()` removes at either end (`\s` is the same set),
# no NUL and no lone surrogate (its validators refuse both).
_KEPT = r"\A(?:[^\s\x00\ud800-\udfff](?:[^\x00\ud800-\udfff]*[^\s\x00\ud800-\udfff])?)?\Z"


def _fast_type(field: serializers.Field):
    """The msgspec type of the values `field` takes unchanged; None for a field the fast path does not read."""
    if isinstance(field, serializers.ChoiceField):
        return Literal[tuple(field.choices)]
    if isinstance(field, serializers.IntegerField):
        return Annotated[int, msgspec.Meta(ge=field.min_value, le=field.max_value)]
    if isinstance(field, serializers.DictField):
        return dict  # checked by the field itself (`run_validation`)
    if isinstance(field, serializers.CharField):
        least = field.min_length or (0 if field.allow_blank else 1)
        return Annotated[str, msgspec.Meta(min_length=least, max_length=field.max_length, pattern=_KEPT)]
    return None


class FastCall:
    """For a request serializer whose fields take null as not sent (the track dialect's), the validated data of
    a call in its ordinary shape, or None (then the serializer validates it)."""

    def __init__(self, serializer_class: type[serializers.Serializer]):
        self.serializer_class = serializer_class
        self.fields = serializer_class._declared_fields
        types = {name: _fast_type(field) for name, field in self.fields.items()}
        if None in types.values():
            raise TypeError(
                f"{serializer_class.__name__}: no fast type for {[n for n, t in types.items() if t is None]}"
            )
        # Unknown keys step aside too: msgspec skips their values unread, where the parser refuses a number or a
        # string no field could hold anywhere in the document.
        struct = msgspec.defstruct(
            f"{serializer_class.__name__}Fast",
            [(name, kind | None, None) for name, kind in types.items()],
            forbid_unknown_fields=True,
        )
        self.decode = msgspec.json.Decoder(struct).decode
        # Fields whose value goes through the field itself: checks beyond a type and bounds (emails, JSON size).
        self.checked = {
            name for name, field in self.fields.items()
            if isinstance(field, serializers.EmailField | serializers.DictField)
        }  # fmt: skip

    def __call__(self, request) -> dict | None:
        """The validated data of the request's JSON body (UTF-8), or None."""
        django_request = request._request
        charset = django_request.content_params.get("charset", "utf-8").lower()
        if django_request.content_type != "application/json" or charset not in ("utf-8", "utf8"):
            return None
        return self.validated(django_request.body)

    def validated(self, body: bytes) -> dict | None:
        """The validated data of the JSON document `body`, as the serializer gives it, or None."""
        if may_nest_too_deeply(body):  # the parser's limit (`salesledger.parsers`) is the parser's to apply
            return None
        try:
            call = self.decode(body)
        except (msgspec.MsgspecError, RecursionError):
            return None
        serializer = self.serializer_class()
        attrs = {}
        try:
            for name, field in self.fields.items():
                value = getattr(call, name)
                if value is None:
                    if field.default is not empty:
                        value = field.default
                    elif field.required:
                        return None
                    else:
                        continue
                elif name in self.checked and value != "":
                    value = field.run_validation(value)
                validate = getattr(serializer, f"validate_{name}", None)
                attrs[name] = value if validate is None else validate(value)
        except (serializers.ValidationError, DjangoValidationError):
            return None
        return serializer.validate(attrs)
