"""Admin: sales are read-only, corrected by Confirm / Cancel actions and manual sales, all in the history."""

from decimal import Decimal

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from sales.ledger.models import Sale
from sales.ledger.services import LineInput, sale_create
from sales.uploads.services import sales_upload
from tests.factories import UserFactory
from tests.helpers import ledger_size, levels

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/sales/sale/"


def sell(project, product, quantity=1):
    return sale_create(
        project=project, channel="sells", lines=[LineInput(product=product.id, quantity=Decimal(quantity))]
    )


def test_changelist_filters_and_read_only_detail_with_lines(staff_client, project, make_product):
    laptop = make_product("Laptop", stock=5)
    sale = sell(project, laptop, 2)
    page = staff_client.get(CHANGELIST, {"status__exact": "pending", "channel__exact": "sells"})
    assert page.status_code == 200 and str(sale.id) in page.content.decode()
    detail = staff_client.get(f"{CHANGELIST}{sale.id}/change/")
    assert detail.status_code == 200
    html = detail.content.decode()
    assert "Laptop" in html and 'name="status"' not in html, "lines inline, nothing editable"
    assert staff_client.post(f"{CHANGELIST}{sale.id}/delete/").status_code == 403


def test_confirm_and_cancel_actions_report_each_sale_and_log_it(staff_client, staff, project, make_product):
    laptop = make_product("Laptop", stock=5)
    pending, cancelled = sell(project, laptop), sell(project, laptop)
    staff_client.post(CHANGELIST, {"action": "cancel_sales", "_selected_action": [cancelled.pk]})
    response = staff_client.post(
        CHANGELIST, {"action": "confirm_sales", "_selected_action": [pending.pk, cancelled.pk]}, follow=True
    )
    messages = [str(message) for message in response.context["messages"]]
    assert f"Sale {pending.id}: confirmed." in messages
    assert f"Sale {cancelled.id} is cancelled and cannot be confirmed." in messages
    assert Sale.objects.get(pk=pending.pk).status == "confirmed"
    assert levels(laptop) == (4, 0)
    entries = LogEntry.objects.filter(object_id=str(pending.pk))
    assert [(entry.action_flag, entry.user, entry.get_change_message()) for entry in entries] == [
        (CHANGE, staff, "Confirmed through the admin")
    ]
    history = staff_client.get(f"{CHANGELIST}{pending.pk}/history/").content.decode()
    assert "Confirmed through the admin" in history and "staff" in history


def manual_sale_form(project, lines, **changes):
    data = {
        "project": project.pk, "status": "confirmed", "deduct_stock": "on", "category": "Phone",
        "reason": "Phone order",
        "lines-TOTAL_FORMS": str(len(lines)), "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": "1000",
    }  # fmt: skip
    for index, (product, quantity, price) in enumerate(lines):
        data[f"lines-{index}-product"] = product.pk
        data[f"lines-{index}-quantity"] = quantity
        data[f"lines-{index}-unit_price"] = price
    data.update(changes)
    return data


@pytest.mark.parametrize("permissions", [["view_sale"], ["view_sale", "change_sale"]])
def test_confirm_and_cancel_take_the_sale_change_permission(project, make_product, permissions):
    """A view-only staff user sees sales but cannot move stock through the actions."""
    laptop = make_product("Laptop", stock=5)
    sale = sell(project, laptop, 2)
    clerk = UserFactory(username="clerk", is_staff=True)
    clerk.user_permissions.set(Permission.objects.filter(content_type__app_label="sales", codename__in=permissions))
    client = Client()
    client.force_login(clerk)
    can_move = "change_sale" in permissions

    page = client.get(CHANGELIST)
    assert page.status_code == 200
    assert ('value="confirm_sales"' in page.content.decode()) is can_move
    client.post(CHANGELIST, {"action": "confirm_sales", "_selected_action": [sale.pk]})
    sale.refresh_from_db()
    assert (sale.status, levels(laptop)) == (("confirmed", (3, 0)) if can_move else ("pending", (5, 2)))


def test_staff_manual_sale_goes_through_the_services(staff_client, staff, project, make_product):
    laptop, cable = make_product("Laptop", stock=5, price="1000"), make_product("Cable", stock=50, price="9.50")
    assert staff_client.get(f"{CHANGELIST}add/").status_code == 200
    response = staff_client.post(f"{CHANGELIST}add/", manual_sale_form(project, [(laptop, 2, ""), (cable, 3, "9")]))
    assert response.status_code == 302
    sale = Sale.objects.get()
    assert (sale.channel, sale.status, sale.user, sale.total, sale.category) == (
        "admin", "confirmed", staff, Decimal("2027.00"), "Phone"
    )  # fmt: skip
    assert levels(laptop) == (3, 0) and levels(cable) == (47, 0)
    entry = LogEntry.objects.get(object_id=str(sale.pk))
    assert (entry.action_flag, entry.user, entry.get_change_message()) == (ADDITION, staff, "Manual sale: Phone order")


def test_manual_sale_refused_shows_why_and_writes_nothing(staff_client, project, other_project, make_product):
    laptop = make_product("Laptop", stock=1)
    foreign = make_product("Foreign", stock=9, target_project=other_project)
    short = staff_client.post(f"{CHANGELIST}add/", manual_sale_form(project, [(laptop, 2, "")]))
    assert (
        short.status_code == 200 and "Insufficient stock: Laptop (requested 2, available 1)" in short.content.decode()
    )
    wrong = staff_client.post(f"{CHANGELIST}add/", manual_sale_form(project, [(foreign, 1, "")]))
    assert "does not exist in this project" in wrong.content.decode()
    no_reason = staff_client.post(f"{CHANGELIST}add/", manual_sale_form(project, [(laptop, 1, "")], reason=""))
    assert no_reason.status_code == 200
    assert ledger_size() == (0, 0) and levels(laptop) == (1, 0) and levels(foreign) == (9, 0)
    assert not LogEntry.objects.exists()


def test_company_fields_of_an_upload_are_searchable(staff_client, project):
    row = {"sale_external_id": "A-1", "sale_date": "2026-01-02", "sale_customer_id": "C1", "product_id": "P1",
           "quantity": 1, "unit_price": 100, "ACME__sales_person": "Rosalind"}  # fmt: skip
    sales_upload(project=project, rows=[row])
    sale = Sale.objects.get(external_id="A-1")

    found = staff_client.get(CHANGELIST, {"q": "Rosalind"}).content.decode()
    missed = staff_client.get(CHANGELIST, {"q": "Bartholomew"}).content.decode()
    assert str(sale.id) in found and str(sale.id) not in missed


def test_a_sales_page_costs_the_same_queries_whatever_its_number_of_lines(staff_client, project, make_product):
    def sale_of(count):
        products = [make_product(f"P{count}-{n}", variants=[("Red", 9, None)]) for n in range(count)]
        return sale_create(
            project=project, channel="sells",
            lines=[LineInput(product=p.id, variant=p.variants.get().id, quantity=Decimal(1)) for p in products],
        )  # fmt: skip

    def queries(sale):
        with CaptureQueriesContext(connection) as captured:
            page = staff_client.get(f"{CHANGELIST}{sale.id}/change/")
        assert page.status_code == 200
        return len(captured)

    one, many = sale_of(1), sale_of(10)
    html = staff_client.get(f"{CHANGELIST}{many.id}/change/").content.decode()
    assert "P10-9 / Red" in html, "each line shows its product and variant"
    assert queries(many) == queries(one)


def test_manual_sale_page_does_not_grow_with_the_catalogue(
    staff_client, project, make_product, django_assert_max_num_queries
):
    for index in range(30):
        make_product(f"Catalogue item {index}", stock=1)
    with django_assert_max_num_queries(6):
        page = staff_client.get(f"{CHANGELIST}add/")
    assert page.status_code == 200 and "Catalogue item" not in page.content.decode()


def test_manual_sale_by_external_id(staff_client, project, make_product):
    laptop = make_product("Laptop", stock=5, price="1000")
    laptop.external_id = "LAP-1"
    laptop.save(update_fields=["external_id"])
    form = manual_sale_form(project, [(laptop, 1, "")])
    form["lines-0-product"] = "LAP-1"
    assert staff_client.post(f"{CHANGELIST}add/", form).status_code == 302
    assert Sale.objects.get().lines.get().product == laptop and levels(laptop) == (4, 0)
