"""factory-boy factories for every app's models."""

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from apikeys.models import Project
from apikeys.services import api_key_create


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password("pw-for-tests-1")


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Project {n}")
    slug = factory.Sequence(lambda n: f"project-{n}")
    currency = "USD"
    time_zone = "UTC"

    @factory.post_generation
    def owners(self, create, extracted, **kwargs):
        if create:
            self.owners.add(*(extracted or [UserFactory()]))


def issue_key(project, *, name="test", user=None, **kwargs):
    """A fresh key for `project`; returns the IssuedKey (api_key + secret)."""
    return api_key_create(project=project, name=name, user=user or project.owners.first(), **kwargs)


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "inventory.Product"

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"Product {n}")
    price = Decimal("10.00")


class StockFactory(factory.django.DjangoModelFactory):
    """The counters of a product without variants (tests of reads; writes go through inventory.services)."""

    class Meta:
        model = "inventory.Stock"

    product = factory.SubFactory(ProductFactory)
    on_hand = 100
    reserved = 0


class SaleFactory(factory.django.DjangoModelFactory):
    """A ledger sale as stored (tests of reads; writes go through sales.services)."""

    class Meta:
        model = "sales.Sale"

    project = factory.SubFactory(ProjectFactory)
    channel = "native"
    status = "pending"
    currency = factory.LazyAttribute(lambda sale: sale.project.currency)
    total = Decimal("10.00")
    subtotal = factory.LazyAttribute(lambda sale: sale.total)
    created_at = factory.LazyFunction(timezone.now)
    confirmed_at = factory.LazyAttribute(lambda sale: sale.created_at if sale.status == "confirmed" else None)
    cancelled_at = factory.LazyAttribute(lambda sale: sale.created_at if sale.status == "cancelled" else None)


class SaleLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "sales.SaleLine"

    sale = factory.SubFactory(SaleFactory)
    product = factory.SubFactory(ProductFactory, project=factory.SelfAttribute("..sale.project"))
    product_name = factory.LazyAttribute(lambda line: line.product.name if line.product else "")
    quantity = Decimal(1)
    unit_price = Decimal("10.00")
    line_total = factory.LazyAttribute(lambda line: line.quantity * line.unit_price)
    position = factory.Sequence(lambda n: n)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "tracking.Customer"

    project = factory.SubFactory(ProjectFactory)
    external_id = factory.Sequence(lambda n: f"customer-{n}")
    name = factory.Sequence(lambda n: f"Customer {n}")


class SaleEventFactory(factory.django.DjangoModelFactory):
    """A tracked conversion as stored: `amount` in USD cents."""

    class Meta:
        model = "tracking.SaleEvent"

    project = factory.SubFactory(ProjectFactory)
    customer = factory.SubFactory(CustomerFactory, project=factory.SelfAttribute("..project"))
    event_name = "Purchase"
    amount = 1000
    original_amount = factory.LazyAttribute(lambda event: event.amount)
    original_currency = "usd"
    payment_processor = "custom"
