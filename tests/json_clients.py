"""Project A's and project B's clients sending JSON bodies without `format="json"` on every call.

A test package that wants them imports both names into its conftest, where they override the root
fixtures of the same names for that package only.
"""

import pytest


@pytest.fixture
def api(api):
    api.default_format = "json"
    return api


@pytest.fixture
def other_api(other_api):
    other_api.default_format = "json"
    return other_api
