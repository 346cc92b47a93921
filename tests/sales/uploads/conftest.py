"""Fixtures of the custobar upload tests: fresh copies of the document's examples."""

import copy

import pytest

from tests.sales.uploads.helpers import FIRST_EXAMPLE, SECOND_EXAMPLE


@pytest.fixture
def first_example():
    return copy.deepcopy(FIRST_EXAMPLE)


@pytest.fixture
def second_example():
    return copy.deepcopy(SECOND_EXAMPLE)
