"""What the dialects' request serializers share."""

import copy

from rest_framework import serializers


class ShallowFieldsSerializer(serializers.Serializer):
    """A serializer whose fields are shallow copies of its declared fields, where DRF deep-copies them,
    running each field's `__init__` again: two thirds of a track call's validation, a third of a costtrack
    sale's. Only for fields that keep nothing of a request on themselves (DRF's scalar fields and ours, and
    a child field that reads no context and validates nothing), since a field's children are shared."""

    def get_fields(self):
        return {name: copy.copy(field) for name, field in self._declared_fields.items()}
