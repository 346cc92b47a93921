"""factory-boy factories for every app's models."""

import uuid
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from apikeys.models import Project
from apikeys.services import api_key_create
from inventory.services.catalogue import product_create
from inventory.services.stock import StockItem, stock_reserve


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
    """The one way tests make a product: through `inventory.services.catalogue.product_create`, so it has
    its stock counters and initial movement like any other. `stock=5`, or `variants=[("Red", 2)]` /
    `[("Red", 2, "12.00")]` (name, stock, price); `reserved=1` reserves units for a made-up pending sale."""

    class Meta:
        model = "inventory.Product"

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"Product {n}")
    price = Decimal("10.00")

    @classmethod
    def _create(cls, model_class, *, stock=0, reserved=0, variants=(), price, **fields):
        product = product_create(
            price=Decimal(price),
            stock_on_hand=stock,
            variants=[
                {"name": name, "stock_on_hand": quantity, "price": Decimal(rest[0]) if rest and rest[0] else None}
                for name, quantity, *rest in variants
            ],
            **fields,
        )
        if reserved:
            stock_reserve(
                items=[StockItem(product_id=product.pk, variant_id=None, quantity=reserved)], sale_id=uuid.uuid4()
            )
        return product


class SaleFactory(factory.django.DjangoModelFactory):
    """A ledger sale as stored (tests of reads; writes go through sales.ledger.services)."""

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
