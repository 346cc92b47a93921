"""Fixtures of the inventory tests: products are made through the services, like everywhere else."""

from tests.json_clients import api, other_api  # noqa: F401
