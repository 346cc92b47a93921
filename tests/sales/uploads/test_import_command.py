"""import_sales_rows: the document's JSON, JSON lines and CSV, in batches, stopping at a bad row with a resume hint."""

import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from sales.ledger.models import Sale, SaleLine
from sales.uploads.models import Upload
from tests.sales.uploads.helpers import SECOND_EXAMPLE, custobar_sale, lines_of

pytestmark = pytest.mark.django_db


def run(path, *args):
    out, err = StringIO(), StringIO()
    call_command("import_sales_rows", str(path), "--project", "alpha", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def rows_of(count, *, with_ids=True):
    """Rows of transactions T0, T1, ... with 3 rows each; row ids "0", "1", ... unless `with_ids` is false."""
    rows = []
    for index in range(count):
        row = {"sale_external_id": f"T{index // 3}", "sale_date": "2017-12-01", "sale_customer_id": f"C{index // 3}",
               "product_id": f"P{index % 3}", "quantity": 1, "unit_price": 100}  # fmt: skip
        if with_ids:
            row["external_id"] = str(index)
        rows.append(row)
    return rows


def test_the_documents_json_is_imported_with_counts_and_a_progress_bar(project, tmp_path):
    path = tmp_path / "sales.json"
    path.write_text(json.dumps(SECOND_EXAMPLE, indent=2))

    out, err = run(path)

    assert out == (
        "Imported 2 rows: 1 transactions created, 0 updated, 0 unchanged; 2 sale rows created, 0 updated, "
        "0 replaced; 2 products created.\n"
    )
    assert "import: 100%" in err
    assert custobar_sale(project, "1000").total == Decimal("51.60")
    out, _ = run(path)
    assert "0 transactions created, 0 updated, 1 unchanged" in out


def test_json_lines(project, tmp_path):
    path = tmp_path / "sales.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in rows_of(6)) + "\n\n")

    out, _ = run(path)

    assert out.startswith("Imported 6 rows: 2 transactions created")
    assert SaleLine.objects.count() == 6


def test_csv_with_the_same_column_names(project, tmp_path):
    path = tmp_path / "sales.csv"
    path.write_text(
        "sale_external_id,sale_date,sale_email,sale_coupon_codes,product_sku,quantity,unit_price,discount,tags,ACME__till\n"
        'S1,2017-08-28T14:10:00Z,a@example.com,"XMAS, VIP",SKU-1,1.5,1000,,,4\n'
        'S1,,,,SKU-2,2,250,50,"CANCELED",\n'
    )

    out, _ = run(path)

    assert out.startswith("Imported 2 rows: 1 transactions created")
    sale = custobar_sale(project, "S1")
    assert sale.extra == {"sale_coupon_codes": ["XMAS", "VIP"], "ACME__till": "4"}
    assert [line[1:] for line in lines_of(sale)] == [
        ("sku:SKU-1", 1.5, 10, 0, 15, []),
        ("sku:SKU-2", 2, 2.5, 0.5, 4.5, ["CANCELED"]),
    ]
    assert sale.customer.email == "a@example.com"


def test_rows_of_one_transaction_split_across_batches_form_one_sale(project, tmp_path):
    rows = rows_of(9)
    rows.append({**rows[0], "external_id": "late", "product_id": "P9"})  # T0 again, three batches later
    path = tmp_path / "sales.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in rows))

    out, _ = run(path, "--batch-size", "2")

    assert Upload.objects.count() == 4  # 3 transactions of 3 rows, then the late row
    assert "Imported 10 rows: 3 transactions created, 1 updated" in out
    assert [line[0] for line in lines_of(custobar_sale(project, "T0"))] == ["0", "1", "2", "late"]
    assert Sale.objects.count() == 3


def test_rows_without_ids_are_never_split_from_their_transaction(project, tmp_path):
    path = tmp_path / "sales.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in rows_of(9, with_ids=False)))

    run(path, "--batch-size", "2")

    assert [sale.lines.count() for sale in Sale.objects.all()] == [3, 3, 3]


def test_a_bad_row_stops_the_import_and_tells_how_to_resume(project, tmp_path):
    rows = rows_of(9)
    rows[7]["quantity"] = "lots"
    path = tmp_path / "sales.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in rows))

    with pytest.raises(CommandError) as raised:
        run(path, "--batch-size", "3")

    assert str(raised.value) == (
        "Stopped at a bad batch: nothing of rows 6 to 8 was written (rows count from 0; rows before 6 are imported).\n"
        "  row 7: quantity: must be a number.\n"
        f"Fix the file, then resume with: python manage.py import_sales_rows {path} --project alpha --skip 6"
    )
    assert sorted(Sale.objects.values_list("external_id", flat=True)) == ["T0", "T1"]
    assert not Sale.objects.filter(external_id="T2").exists()

    rows[7]["quantity"] = 2
    path.write_text("\n".join(json.dumps(row) for row in rows))
    out, _ = run(path, "--batch-size", "3", "--skip", "6")

    assert out.startswith("Imported 3 rows: 1 transactions created")
    assert SaleLine.objects.count() == 9


@pytest.mark.parametrize("field", ["sale_payment_method", "product_id", "sale_tags"])
def test_a_lone_surrogate_in_a_text_field_stops_at_its_row(project, tmp_path, field):
    """The command's files never pass the API's parser: its own parser refuses what no column can hold."""
    rows = rows_of(3)
    rows[1][field] = ["x\ud800y"] if field == "sale_tags" else "x\ud800y"
    path = tmp_path / "sales.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in rows))  # json writes the surrogate as \ud800

    with pytest.raises(CommandError) as raised:
        run(path)

    assert f"  row 1: {field}: must not contain a lone UTF-16 surrogate." in str(raised.value)
    assert not Sale.objects.exists()


def test_a_file_that_is_not_json_stops_with_what_was_imported(project, tmp_path):
    path = tmp_path / "sales.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in rows_of(4)) + "\n{not json\n")

    with pytest.raises(CommandError) as raised:
        run(path, "--batch-size", "3")

    assert str(raised.value).startswith(f"{path}: line 5 is not JSON: ")
    assert str(raised.value).endswith("The first 3 rows are imported; fix the file and resume with --skip 3.")
    assert Sale.objects.count() == 1


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("sales.json", '{"sales": [{"sale_external_id": "1",', "not valid JSON"),
        ("sales.json", '{"rows": []}', "no sale rows found after row 0"),
        ("sales.txt", "", "Can't tell the format"),
        ("sales.csv", "sale_external_id,quantity\n1,2,3\n", "line 2 has more cells than the header has columns"),
        ("sales.jsonl", '{"ACME__x": ' + "[" * 100_000 + "]" * 100_000 + "}\n", "line 1 is JSON nested too deeply"),
    ],
)
def test_unreadable_files(project, tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content)

    with pytest.raises(CommandError, match=message):
        run(path)
    assert not Sale.objects.exists()


def test_unknown_project(db, tmp_path):
    with pytest.raises(CommandError, match="No project with slug 'alpha'"):
        run(tmp_path / "sales.json")


def test_a_file_that_is_not_utf8_is_refused(project, tmp_path):
    path = tmp_path / "sales.csv"
    path.write_bytes("sale_external_id,quantity\nSå,1\n".encode("latin-1"))

    with pytest.raises(CommandError, match="not UTF-8 text"):
        run(path)
    assert not Sale.objects.exists()
