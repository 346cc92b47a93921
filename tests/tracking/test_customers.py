"""The customer service other apps call: batch get-or-create by external id, phone or email."""

import pytest

from tracking.models import Customer
from tracking.names import ADJECTIVES, ANIMALS, COLOURS
from tracking.services import customer_identity, customers_get_or_create

pytestmark = pytest.mark.django_db


def test_creates_missing_customers_and_finds_existing_ones(project, django_assert_max_num_queries):
    existing = Customer.objects.create(project=project, external_id="c-1", name="Ann")
    by_phone = Customer.objects.create(project=project, phone="+358401", name="Phone Person")
    identities = [
        {"external_id": "c-1"},
        {"external_id": "c-2", "email": "bob@example.com"},
        {"phone": "+358401"},
        {"email": "carol@example.com", "name": "Carol"},
        {"external_id": "c-2"},
    ]
    with django_assert_max_num_queries(8):
        customers = customers_get_or_create(project=project, identities=identities)

    assert customers[("external_id", "c-1")] == existing
    assert customers[("phone", "+358401")] == by_phone
    bob = customers[("external_id", "c-2")]
    assert (bob.name, bob.email) == ("bob@example.com", "bob@example.com")
    assert customers[("email", "carol@example.com")].name == "Carol"
    assert Customer.objects.filter(project=project).count() == 4
    assert bob.public_id.startswith("cus_") and len(bob.public_id) == 28


@pytest.mark.parametrize("size", [1, 45])
def test_query_count_does_not_grow_with_the_batch(project, size, django_assert_num_queries):
    identities = [{"external_id": f"c-{n}"} for n in range(size)] + [{"email": f"{n}@example.com"} for n in range(size)]
    # 2 lookups, one insert, 2 lookups again: the same for 2 identities or 90
    # (SQLite caps one insert at 99 rows of customers; PostgreSQL at thousands).
    with django_assert_num_queries(5):
        customers = customers_get_or_create(project=project, identities=identities)
    assert len(customers) == 2 * size
    with django_assert_num_queries(2):
        again = customers_get_or_create(project=project, identities=identities)
    assert again == customers
    assert Customer.objects.filter(project=project).count() == 2 * size


def test_a_customer_without_name_or_email_gets_a_readable_random_name(project):
    customer = customers_get_or_create(project=project, identities=[{"external_id": "anon"}])[("external_id", "anon")]
    adjective, colour, animal = customer.name.split(" ")
    assert (adjective in ADJECTIVES, colour in COLOURS, animal in ANIMALS) == (True, True, True)


def test_same_external_id_in_another_project_is_another_customer(project, other_project):
    mine = customers_get_or_create(project=project, identities=[{"external_id": "same"}])[("external_id", "same")]
    theirs = customers_get_or_create(project=other_project, identities=[{"external_id": "same"}])
    assert theirs[("external_id", "same")].pk != mine.pk


def test_an_identity_needs_a_key():
    with pytest.raises(ValueError):
        customer_identity({"name": "Nobody"})
