"""Fixtures of the connecteam tests: locations of project A (alpha) and one of project B (beta)."""

import pytest

from sales.pos.services import location_create


@pytest.fixture
def location(project):
    return location_create(project=project, name="Main street")


@pytest.fixture
def second_location(project):
    return location_create(project=project, name="Airport kiosk")


@pytest.fixture
def foreign_location(other_project):
    return location_create(project=other_project, name="Beta store")
