"""What the dialects' request serializers share."""

import copy
import functools

from django.utils.functional import cached_property
from rest_framework import serializers
from rest_framework.utils.serializer_helpers import BindingDict


class ShallowFieldsSerializer(serializers.Serializer):
    """A serializer whose fields are bound once per class and shared by all its instances, where DRF deep-copies
    the declared fields for every instance (running each field's `__init__` again) and binds the copies: that
    was a sixth of a track call's CPU. Only for fields that keep nothing of a request on themselves and read
    no context (DRF's scalar fields and ours, and a child field that reads no context and validates nothing):
    they are bound to an instance of the class made without data, so they see no request's data, context or
    errors, and a request's validation only reads them."""

    @cached_property
    def fields(self):
        return _bound_fields(type(self))


@functools.cache
def _bound_fields(serializer_class) -> BindingDict:
    """Shallow copies of the class's declared fields (a declared field stays unbound), bound to a serializer of
    the class that holds no data."""
    fields = BindingDict(serializer_class())
    for name, field in serializer_class._declared_fields.items():
        fields[name] = copy.copy(field)
    return fields
