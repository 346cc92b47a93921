"""check_stock finds any counter that differs from its movements, however it got there."""

import io

import pytest
from django.core.management import CommandError, call_command

from inventory.models import Stock, StockMovement
from inventory.services.stock import stock_commit, stock_reserve
from tests.helpers import item

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("check_stock", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_passes_when_counters_match_the_ledger(make_product):
    laptop = make_product("Laptop", stock=5)
    make_product("Mouse", variants=[("Red", 2), ("Blue", 0)])
    stock_reserve(items=[item(laptop, 2)])
    stock_commit(items=[item(laptop, 1)])
    out, _ = run()
    assert "OK: 4 stock counter(s) match" in out


def test_finds_a_counter_edited_behind_the_ledgers_back(make_product):
    laptop = make_product("Laptop", stock=5)
    mouse = make_product("Mouse", variants=[("Red", 2)])
    Stock.objects.filter(product=laptop).update(on_hand=9)
    Stock.objects.filter(variant__name="Red").update(reserved=1)
    with pytest.raises(CommandError, match="2 stock counter"):
        run()
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("check_stock", stderr=err)
    text = err.getvalue()
    assert f"Laptop (product {laptop.pk}): on hand 9 but movements say 5" in text
    assert "Mouse / Red" in text and "reserved 1 but movements say 0" in text
    assert str(mouse.pk) in text


def test_finds_a_movement_without_its_counter(make_product):
    laptop = make_product("Laptop", stock=5)
    StockMovement.objects.create(product=laptop, delta_on_hand=3, reason="adjustment")
    with pytest.raises(CommandError):
        run()


def test_exits_non_zero_from_the_command_line(make_product, project):
    laptop = make_product("Laptop", stock=5)
    Stock.objects.filter(product=laptop).update(on_hand=4)
    with pytest.raises(CommandError):
        run("--project", project.slug)
    run("--project", "some-other-project")
