"""The native inventory API: products with stock, adjust-stock, the ledger; tenancy and bad input."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from inventory.models import StockMovement
from inventory.services.stock import stock_deduct, stock_reserve
from tests.helpers import item, ledger, levels
from tests.tenancy import assert_invisible, missing_id

pytestmark = pytest.mark.django_db
PRODUCTS = "/api/v1/products/"
MOVEMENTS = "/api/v1/stock-movements/"


def test_create_a_product_with_stock(api, project, issued_key):
    response = api.post(PRODUCTS, {"name": "Laptop", "sku": "LAP-1", "price": "999.90", "stock_on_hand": 5})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["name"] == "Laptop" and body["price"] == 999.9 and body["currency"] == "USD"
    assert (body["on_hand"], body["reserved"], body["available"]) == (5, 0, 5)
    assert "stock_on_hand" not in body
    movement = StockMovement.objects.get(product_id=body["id"])
    assert (movement.reason, movement.delta_on_hand, movement.actor_key_id) == ("initial", 5, issued_key.api_key.pk)


def test_create_with_variants_and_their_own_stock(api):
    response = api.post(
        PRODUCTS,
        {"name": "Mouse", "price": 20, "variants": [
            {"name": "Red", "sku": "M-R", "stock_on_hand": 2},
            {"name": "Blue", "price": "22.50"},
        ]},
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["on_hand"], body["available"]) == (2, 2)
    variants = {v["name"]: v for v in body["variants"]}
    assert variants["Red"]["on_hand"] == 2 and variants["Blue"]["on_hand"] == 0
    assert variants["Blue"]["price"] == 22.5 and variants["Red"]["price"] is None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "X", "price": 1, "stock_on_hand": -1}, "stock_on_hand"),
        ({"name": "X", "price": 1, "stock_on_hand": 1.5}, "stock_on_hand"),
        ({"name": "X", "price": -1}, "price"),
        ({"price": 1}, "name"),
        ({"name": "X"}, "price"),
        ({"name": "X", "price": 1, "stock_on_hand": 3, "variants": [{"name": "A"}]}, "stock_on_hand"),
        ({"name": "X", "price": 1, "variants": [{"name": "A", "stock_on_hand": -2}]}, "variants"),
        ({"name": "X", "price": 1, "image_url": "not a url"}, "image_url"),
        # Django's URL check takes these; the schema's `format: uri` (RFC 3986) does not.
        ({"name": "X", "price": 1, "image_url": "https://cdn.example.com/ü.jpg"}, "image_url"),
        ({"name": "X", "price": 1, "image_url": "https://bücher.example/x.jpg"}, "image_url"),
        ({"name": "X", "price": 1, "image_url": "https://cdn.example.com/a|b^c.jpg"}, "image_url"),
        ({"name": "X", "price": 1, "image_url": "https://cdn.example.com/%zz.jpg"}, "image_url"),
        ({"name": "X", "price": 1, "stock_on_hand": 6469693229}, "stock_on_hand"),
    ],
)
def test_bad_product_input_is_a_400_naming_the_field(api, payload, field):
    response = api.post(PRODUCTS, payload)
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert not StockMovement.objects.exists()


@pytest.mark.parametrize("field", ["sku", "ean", "external_id"])
def test_duplicate_identifier_within_project_is_a_400(api, other_api, make_product, field):
    make_product("First", **{field: "ID-1"})
    response = api.post(PRODUCTS, {"name": "Second", "price": 1, field: "ID-1"})
    assert response.status_code == 400 and field in response.json()
    # Another project may use the same identifier.
    assert other_api.post(PRODUCTS, {"name": "Theirs", "price": 1, field: "ID-1"}).status_code == 201


def test_list_filters(api, make_product):
    laptop = make_product("Laptop", stock=10, sku="LAP", ean="1234567890123", external_id="ext-lap")
    make_product("Laptop bag", stock=2, sku="BAG")
    make_product("Mouse", variants=[("Red", 1), ("Blue", 0)])
    make_product("Old cable", stock=0, active=False)

    def names(query):
        response = api.get(PRODUCTS + query)
        assert response.status_code == 200, response.json()
        return [row["name"] for row in response.json()["results"]]

    assert names("") == ["Laptop", "Laptop bag", "Mouse", "Old cable"]
    assert names("?sku=LAP") == ["Laptop"]
    assert names("?ean=1234567890123") == ["Laptop"]
    assert names("?external_id=ext-lap") == ["Laptop"]
    assert names("?name=laptop") == ["Laptop", "Laptop bag"]
    assert names("?active=false") == ["Old cable"]
    assert names("?available_lte=2") == ["Laptop bag", "Mouse", "Old cable"]
    assert names("?available_lte=2&active=true&ordering=-available") == ["Laptop bag", "Mouse"]
    assert names("?ordering=-available")[0] == "Laptop"
    stock_reserve(items=[item(laptop, 9)])
    assert names("?available_lte=1") == ["Laptop", "Mouse", "Old cable"]
    assert api.get(PRODUCTS + "?available_lte=many").status_code == 400


def test_list_is_paginated_and_costs_the_same_queries_at_any_size(api, make_product, django_assert_max_num_queries):
    make_product("P0", variants=[("A", 1), ("B", 1)])
    with django_assert_max_num_queries(20) as small:
        assert api.get(PRODUCTS).json()["count"] == 1
    for n in range(1, 40):
        make_product(f"P{n}", stock=n % 2 * n, variants=[] if n % 2 else [("A", 1), ("B", 2)])
    with django_assert_max_num_queries(len(small.captured_queries)):
        body = api.get(PRODUCTS + "?limit=40").json()
    assert body["count"] == 40 and len(body["results"]) == 40


def test_retrieve_and_update_never_change_stock(api, make_product):
    laptop = make_product("Laptop", stock=5, sku="LAP")
    path = f"{PRODUCTS}{laptop.pk}/"
    assert api.get(path).json()["on_hand"] == 5

    patched = api.patch(path, {"name": "Laptop Pro", "on_hand": 100, "available": 100, "sku": ""})
    assert patched.status_code == 200, patched.json()
    assert patched.json()["name"] == "Laptop Pro" and patched.json()["on_hand"] == 5
    assert patched.json()["sku"] is None

    refused = api.patch(path, {"stock_on_hand": 50})
    assert refused.status_code == 400 and "stock_on_hand" in refused.json()

    full = api.get(path).json()
    put = api.put(path, {**full, "price": 12, "on_hand": 0})
    assert put.status_code == 200, put.json()
    assert put.json()["price"] == 12 and put.json()["on_hand"] == 5
    assert levels(laptop) == (5, 0) and len(ledger(laptop)) == 1


def test_update_to_a_taken_sku_is_a_400(api, make_product):
    make_product("A", sku="A-1")
    b = make_product("B", sku="B-1")
    response = api.patch(f"{PRODUCTS}{b.pk}/", {"sku": "A-1"})
    assert response.status_code == 400 and "sku" in response.json()


def test_delete_an_unsold_product_and_deactivate_a_sold_one(api, make_product):
    unsold, sold = make_product("Unsold", stock=1), make_product("Sold", stock=3)
    stock_deduct(items=[item(sold, 1)], sale_id=uuid.uuid4())
    assert api.delete(f"{PRODUCTS}{unsold.pk}/").status_code == 204
    assert api.get(f"{PRODUCTS}{unsold.pk}/").status_code == 404
    response = api.delete(f"{PRODUCTS}{sold.pk}/")
    assert response.status_code == 200 and response.json()["active"] is False
    assert api.get(f"{PRODUCTS}{sold.pk}/").json()["on_hand"] == 2


def test_paths_answer_with_and_without_trailing_slash(api, make_product):
    laptop = make_product(stock=1)
    assert api.get("/api/v1/products").status_code == 200
    assert api.get(f"/api/v1/products/{laptop.pk}").status_code == 200
    assert api.post("/api/v1/products", {"name": "X", "price": 1}).status_code == 201
    adjust = api.post(f"/api/v1/products/{laptop.pk}/adjust-stock", {"delta": 1, "reason": "count"})
    assert adjust.status_code == 200
    assert api.get("/api/v1/stock-movements").status_code == 200


def test_without_a_key_is_a_401(client):
    assert client.get(PRODUCTS).status_code == 401
    assert client.get(MOVEMENTS).status_code == 401


# adjust-stock -------------------------------------------------------------------------------


def adjust_path(product):
    return f"{PRODUCTS}{product.pk}/adjust-stock/"


def test_adjust_stock(api, make_product, issued_key):
    laptop = make_product(stock=5)
    response = api.post(adjust_path(laptop), {"delta": -2, "reason": "two broken"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["on_hand"], body["reserved"], body["available"]) == (3, 0, 3)
    assert body["movement"]["reason"] == "adjustment" and body["movement"]["note"] == "two broken"
    assert body["movement"]["actor_key"] == str(issued_key.api_key.pk)
    assert levels(laptop) == (3, 0)


def test_adjust_stock_of_a_variant(api, make_product):
    mouse = make_product("Mouse", variants=[("Red", 1), ("Blue", 1)])
    red = mouse.variants.get(name="Red")
    response = api.post(adjust_path(mouse), {"delta": 4, "reason": "delivery", "variant_id": str(red.pk)})
    assert response.status_code == 200 and response.json()["variant_id"] == str(red.pk)
    assert levels(mouse, red) == (5, 0)


def test_adjust_below_zero_is_a_409_with_the_available_quantity(api, make_product):
    laptop = make_product(stock=5)
    stock_reserve(items=[item(laptop, 4)])
    response = api.post(adjust_path(laptop), {"delta": -2, "reason": "count"})
    assert response.status_code == 409
    body = response.json()
    assert (body["code"], body["available"], body["requested"]) == ("insufficient_stock", 1, 2)
    assert "available 1" in body["detail"]
    assert levels(laptop) == (5, 4)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"delta": 1.5, "reason": "x"}, "delta"),
        ({"delta": "many", "reason": "x"}, "delta"),
        ({"delta": 0, "reason": "x"}, "delta"),
        ({"reason": "x"}, "delta"),
        ({"delta": 1}, "reason"),
        ({"delta": 1, "reason": "   "}, "reason"),
        ({"delta": 1, "reason": "x", "variant_id": "not-a-uuid"}, "variant_id"),
        ({"delta": -6469693229, "reason": "x"}, "delta"),
        ({"delta": 1, "reason": "x", "variant_id": "00000000-0000-0000-0000-000000000001"}, "variant_id"),
    ],
)
def test_bad_adjust_input_is_a_400_naming_the_field(api, make_product, payload, field):
    laptop = make_product(stock=5)
    response = api.post(adjust_path(laptop), payload)
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert levels(laptop) == (5, 0)


def test_adjust_a_product_with_variants_needs_its_variant(api, make_product):
    mouse = make_product("Mouse", variants=[("Red", 1)])
    other = make_product("Other", variants=[("Green", 1)])
    missing = api.post(adjust_path(mouse), {"delta": 1, "reason": "x"})
    assert missing.status_code == 400 and "variant_id" in missing.json()
    foreign = api.post(adjust_path(mouse), {"delta": 1, "reason": "x", "variant_id": str(other.variants.get().pk)})
    assert foreign.status_code == 400 and "variant_id" in foreign.json()


# The ledger ----------------------------------------------------------------------------------


def test_stock_movements_list_and_filters(api, make_product):
    laptop = make_product("Laptop", stock=5)
    mouse = make_product("Mouse", variants=[("Red", 3)])
    red = mouse.variants.get()
    sale = uuid.uuid4()
    stock_reserve(items=[item(laptop, 1), item(mouse, 2, red)], sale_id=sale)
    StockMovement.objects.filter(reason="initial").update(created_at=timezone.now() - timedelta(days=2))

    def rows(query=""):
        response = api.get(MOVEMENTS + query)
        assert response.status_code == 200, response.json()
        return response.json()["results"]

    assert len(rows()) == 4
    assert {row["reason"] for row in rows(f"?product={laptop.pk}")} == {"initial", "reserve"}
    assert [row["delta_reserved"] for row in rows(f"?variant={red.pk}&reason=reserve")] == [2]
    assert len(rows(f"?sale_id={sale}")) == 2
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert {row["reason"] for row in api.get(MOVEMENTS, {"since": since}).json()["results"]} == {"reserve"}
    first = rows()[0]
    assert set(first) >= {"id", "product", "variant", "delta_on_hand", "delta_reserved", "reason", "sale_id",
                          "actor_user", "actor_key", "note", "created_at"}  # fmt: skip
    assert api.get(MOVEMENTS + "?reason=stolen").status_code == 400
    # Offsets Python parses but the database refuses, and dates at the edges of the calendar.
    assert len(api.get(MOVEMENTS, {"since": "2000-01-01T00:00:00+18:11"}).json()["results"]) == 4
    for out_of_range in ("9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+05:00"):
        response = api.get(MOVEMENTS, {"since": out_of_range})
        assert response.status_code == 400
        assert response.json() == {"since": ["Out of range once converted to UTC."]}
    assert api.get(MOVEMENTS + "?since=yesterday").status_code == 400


def test_stock_movements_are_read_only(api, make_product):
    laptop = make_product(stock=5)
    movement = StockMovement.objects.get(product=laptop)
    assert api.post(MOVEMENTS, {"product": str(laptop.pk), "delta_on_hand": 5}).status_code == 405
    assert api.patch(f"{MOVEMENTS}{movement.pk}/", {"delta_on_hand": 50}).status_code == 405
    assert api.delete(f"{MOVEMENTS}{movement.pk}/").status_code == 405
    assert StockMovement.objects.get(pk=movement.pk).delta_on_hand == 5


def test_stock_movements_cost_the_same_queries_at_any_size(api, make_product, django_assert_max_num_queries):
    laptop = make_product(stock=100)
    with django_assert_max_num_queries(20) as small:
        api.get(MOVEMENTS)
    stock_reserve(items=[item(laptop, 1)])
    for _ in range(30):
        stock_reserve(items=[item(laptop, 1)])
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert len(api.get(MOVEMENTS + "?limit=100").json()["results"]) == 32


# Tenancy: another project's products and movements are invisible ------------------------------


def test_another_projects_product_is_invisible_everywhere(other_api, make_product):
    laptop = make_product("Laptop", stock=5)
    mine, nobody = f"{PRODUCTS}{laptop.pk}/", f"{PRODUCTS}{missing_id()}/"
    assert_invisible(other_api, "get", mine, nobody)
    assert_invisible(other_api, "patch", mine, nobody, data={"name": "Stolen"})
    assert_invisible(other_api, "put", mine, nobody, data={"name": "Stolen", "price": 1})
    assert_invisible(other_api, "post", f"{mine}adjust-stock/", f"{nobody}adjust-stock/", data={"delta": -5,
                     "reason": "theft"})  # fmt: skip
    assert_invisible(other_api, "delete", mine, nobody)
    assert other_api.get(PRODUCTS).json()["count"] == 0
    assert other_api.get(f"{PRODUCTS}?sku={laptop.sku}&name=Laptop").json()["count"] == 0
    laptop.refresh_from_db()
    assert laptop.name == "Laptop" and laptop.active and levels(laptop) == (5, 0)


def test_another_projects_movements_are_invisible(other_api, make_product):
    laptop = make_product("Laptop", stock=5)
    movement = StockMovement.objects.get(product=laptop)
    assert other_api.get(MOVEMENTS).json()["count"] == 0
    assert other_api.get(f"{MOVEMENTS}?product={laptop.pk}").json()["count"] == 0
    assert_invisible(other_api, "get", f"{MOVEMENTS}{movement.pk}/", f"{MOVEMENTS}999999/")


def test_a_variant_of_another_project_cannot_be_adjusted_through_my_product(api, make_product, other_project):
    mine = make_product("Mine", variants=[("A", 1)])
    theirs = make_product("Theirs", variants=[("B", 1)], target_project=other_project)
    variant = theirs.variants.get()
    response = api.post(adjust_path(mine), {"delta": -1, "reason": "x", "variant_id": str(variant.pk)})
    assert response.status_code == 400 and "variant_id" in response.json()
    assert levels(theirs, variant) == (1, 0)
