"""Admin: products with variants and read-only counters, the Adjust stock form, the read-only ledger."""

import uuid

import pytest
from django.contrib.admin.models import LogEntry

from inventory.models import Product, StockMovement, Variant
from inventory.services.stock import stock_deduct, stock_reserve
from tests.helpers import item, ledger, levels

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/inventory/product/"


def change_path(product):
    return f"{CHANGELIST}{product.pk}/change/"


def adjust_path(product):
    return f"{CHANGELIST}{product.pk}/adjust-stock/"


def variant_management(prefix="variants", total=0, initial=0):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def product_form(project, **fields):
    return {
        "project": project.pk, "name": "Laptop", "sku": "", "ean": "", "external_id": "", "price": "10.00",
        "cost": "", "image_url": "", "active": "on", "stock_on_hand": "0", **variant_management(), **fields,
    }  # fmt: skip


def test_changelist_shows_counters_searches_and_filters(staff_client, make_product):
    laptop = make_product("Laptop", stock=7, sku="LAP-7", ean="4006381333931", external_id="ext-9")
    make_product("Mouse", variants=[("Red", 1), ("Blue", 2)])
    make_product("Cable", stock=50)
    stock_reserve(items=[item(laptop, 3)])

    page = staff_client.get(CHANGELIST)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Laptop" in text and "Mouse" in text
    assert '<td class="field-available">4</td>' in text
    assert '<td class="field-on_hand">3</td>' in text  # Mouse: its variants summed.

    for term in ("LAP-7", "4006381333931", "ext-9", "lapt"):
        found = staff_client.get(CHANGELIST, {"q": term}).content.decode()
        assert "Laptop" in found and "Cable" not in found, term
    low = staff_client.get(CHANGELIST, {"stock": "low"}).content.decode()
    assert "Laptop" in low and "Mouse" in low and "Cable" not in low
    assert staff_client.get(CHANGELIST, {"active__exact": "0"}).status_code == 200
    assert staff_client.get(CHANGELIST, {"project__id__exact": laptop.project_id}).status_code == 200


def test_change_page_shows_read_only_counters_variants_and_history(staff_client, make_product):
    mouse = make_product("Mouse", variants=[("Red", 4)])
    page = staff_client.get(change_path(mouse))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Adjust stock" in text and "Red" in text and "initial" in text
    assert 'name="on_hand"' not in text and 'name="reserved"' not in text
    assert 'name="project"' not in text  # A product never moves to another tenant.


def test_add_product_with_initial_stock_goes_through_the_services(staff_client, staff, project):
    response = staff_client.post(f"{CHANGELIST}add/", product_form(project, name="Dock", stock_on_hand="6"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    dock = Product.objects.get(name="Dock")
    assert levels(dock) == (6, 0)
    assert StockMovement.objects.get(product=dock).actor_user == staff
    assert LogEntry.objects.filter(object_id=str(dock.pk)).exists()
    assert response["Location"] == "/admin/inventory/product/"


def test_add_product_with_variants_inline(staff_client, project):
    data = product_form(project, name="Shirt", **variant_management(total=2))
    data.update({"variants-0-name": "S", "variants-0-sku": "SH-S", "variants-0-price": "",
                 "variants-0-stock_on_hand": "3", "variants-1-name": "M", "variants-1-sku": "SH-M",
                 "variants-1-price": "12", "variants-1-stock_on_hand": ""})  # fmt: skip
    response = staff_client.post(f"{CHANGELIST}add/", data)
    assert response.status_code == 302
    shirt = Product.objects.get(name="Shirt")
    small, medium = shirt.variants.get(name="S"), shirt.variants.get(name="M")
    assert levels(shirt, small) == (3, 0) and levels(shirt, medium) == (0, 0)
    assert ledger(shirt) == [("initial", "S", 3, 0, None)]


def test_add_refuses_own_stock_together_with_variants(staff_client, project):
    data = product_form(project, name="Shirt", stock_on_hand="5", **variant_management(total=1))
    data.update({"variants-0-name": "S", "variants-0-sku": "", "variants-0-price": "", "variants-0-stock_on_hand": "1"})
    response = staff_client.post(f"{CHANGELIST}add/", data)
    assert response.status_code == 200
    assert not Product.objects.filter(name="Shirt").exists()


def test_initial_stock_past_the_counters_range_is_a_form_error(staff_client, project):
    too_many = str(2**31)
    own = staff_client.post(f"{CHANGELIST}add/", product_form(project, name="Dock", stock_on_hand=too_many))
    data = product_form(project, name="Shirt", **variant_management(total=1))
    data.update(
        {"variants-0-name": "S", "variants-0-sku": "", "variants-0-price": "", "variants-0-stock_on_hand": too_many}
    )
    per_variant = staff_client.post(f"{CHANGELIST}add/", data)
    for response in (own, per_variant):
        assert response.status_code == 200
        assert "Ensure this value is less than or equal to 2147483647." in response.content.decode()
    assert not Product.objects.exists() and not StockMovement.objects.exists()


def test_duplicate_sku_is_a_form_error(staff_client, project, make_product):
    make_product("First", sku="DUP")
    response = staff_client.post(f"{CHANGELIST}add/", product_form(project, name="Second", sku="DUP"))
    assert response.status_code == 200
    assert "sku" in response.context["adminform"].form.errors
    second = make_product("Second", sku="OTHER")
    edit = staff_client.post(change_path(second), product_form(project, name="Second", sku="DUP"))
    assert edit.status_code == 200 and "sku" in edit.context["adminform"].form.errors


def test_change_never_writes_counters(staff_client, project, make_product):
    laptop = make_product("Laptop", stock=5)
    response = staff_client.post(
        change_path(laptop), product_form(project, name="Laptop 2", on_hand="100", reserved="7", stock_on_hand="50")
    )
    assert response.status_code == 302
    laptop.refresh_from_db()
    assert laptop.name == "Laptop 2" and levels(laptop) == (5, 0) and len(ledger(laptop)) == 1


def test_variant_with_history_cannot_be_deleted_one_without_can(staff_client, project, make_product):
    mouse = make_product("Mouse", variants=[("Red", 2), ("Blue", 0)])
    red, blue = mouse.variants.get(name="Red"), mouse.variants.get(name="Blue")
    data = product_form(project, name="Mouse", **variant_management(total=2, initial=2))
    data.update({"variants-0-id": red.pk, "variants-0-product": mouse.pk, "variants-0-name": "Red",
                 "variants-0-sku": "", "variants-0-price": "", "variants-0-DELETE": "on",
                 "variants-1-id": blue.pk, "variants-1-product": mouse.pk, "variants-1-name": "Blue",
                 "variants-1-sku": "", "variants-1-price": ""})  # fmt: skip
    refused = staff_client.post(change_path(mouse), data)
    assert refused.status_code == 200 and Variant.objects.filter(pk=red.pk).exists()

    data.pop("variants-0-DELETE")
    data["variants-1-DELETE"] = "on"
    data["variants-0-name"] = "Crimson"
    done = staff_client.post(change_path(mouse), data)
    assert done.status_code == 302
    assert not Variant.objects.filter(pk=blue.pk).exists()
    assert Variant.objects.get(pk=red.pk).name == "Crimson"


def test_adjust_stock_form(staff_client, staff, make_product):
    laptop = make_product("Laptop", stock=5)
    form = staff_client.get(adjust_path(laptop))
    assert form.status_code == 200 and 'name="reason"' in form.content.decode()

    done = staff_client.post(adjust_path(laptop), {"delta": "-2", "reason": "dropped"})
    assert done.status_code == 302 and done["Location"] == change_path(laptop)
    assert levels(laptop) == (3, 0)
    movement = StockMovement.objects.get(reason="adjustment")
    assert (movement.delta_on_hand, movement.note, movement.actor_user) == (-2, "dropped", staff)
    assert LogEntry.objects.filter(object_id=str(laptop.pk), change_message__contains="dropped").exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [({"delta": "-9", "reason": "x"}, "delta"), ({"delta": "0", "reason": "x"}, "delta"),
     ({"delta": "1.5", "reason": "x"}, "delta"), ({"delta": "1", "reason": "  "}, "reason")],
)  # fmt: skip
def test_adjust_stock_form_refuses_bad_input(staff_client, make_product, data, field):
    laptop = make_product("Laptop", stock=5)
    response = staff_client.post(adjust_path(laptop), data)
    assert response.status_code == 200 and field in response.context["form"].errors
    assert levels(laptop) == (5, 0)


def test_adjust_stock_form_for_a_variant(staff_client, make_product):
    mouse = make_product("Mouse", variants=[("Red", 1)])
    red = mouse.variants.get()
    assert staff_client.post(adjust_path(mouse), {"delta": "2", "reason": "x"}).status_code == 200
    assert staff_client.post(adjust_path(mouse), {"variant": red.pk, "delta": "2", "reason": "x"}).status_code == 302
    assert levels(mouse, red) == (3, 0)


def test_movements_are_read_only_in_the_admin(staff_client, make_product):
    laptop = make_product("Laptop", stock=5)
    movement = StockMovement.objects.get(product=laptop)
    listing = staff_client.get("/admin/inventory/stockmovement/", {"product__id__exact": laptop.pk})
    assert listing.status_code == 200 and "Laptop" in listing.content.decode()
    assert staff_client.get("/admin/inventory/stockmovement/add/").status_code == 403
    detail = staff_client.get(f"/admin/inventory/stockmovement/{movement.pk}/change/")
    assert detail.status_code == 200 and 'name="delta_on_hand"' not in detail.content.decode()
    staff_client.post(f"/admin/inventory/stockmovement/{movement.pk}/change/", {"delta_on_hand": "50"})
    assert (
        staff_client.post(f"/admin/inventory/stockmovement/{movement.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert StockMovement.objects.get(pk=movement.pk).delta_on_hand == 5


def test_admin_delete_goes_through_the_service(staff_client, make_product):
    unsold, sold = make_product("Unsold", stock=1), make_product("Sold", stock=3)
    stock_deduct(items=[item(sold, 1)], sale_id=uuid.uuid4())
    response = staff_client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [unsold.pk, sold.pk], "post": "yes"}
    )
    assert response.status_code == 302
    assert not Product.objects.filter(pk=unsold.pk).exists()
    sold.refresh_from_db()
    assert not sold.active and levels(sold) == (2, 0) and len(ledger(sold)) == 2
