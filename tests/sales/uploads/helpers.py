"""The custobar document's two examples, exactly as written, and helpers to post and read uploads."""

from sales.ledger.models import Sale

UPLOAD_PATH = "/api/sales/upload/"

FIRST_EXAMPLE = {
    "sales": [
        {
            "sale_external_id": "1000",
            "sale_customer_id": "A501",
            "sale_date": "2017-12-01T13:11:23Z",
            "sale_shop_id": "1",
            "sale_discount": 0,
            "sale_total": 5160,
            "sale_payment_method": "Credit Card",
            "external_id": "1000-1",
            "product_id": "SKU0435",
            "unit_price": 1200,
            "quantity": 1,
            "total": 1200,
            "COMPANY__sales_person": "3",
        },
        {
            "sale_external_id": "1000",
            "external_id": "1000-2",
            "product_id": "SKU3429",
            "unit_price": 2080,
            "quantity": 2,
            "discount": 200,
            "total": 3960,
        },
        {
            "sale_external_id": "5000",
            "sale_exchange_rate": 1.112,
            "sale_currency": "USD",
            "external_id": "5000-2",
            "product_id": "SKU3429",
            "unit_price_in_currency": 2080,
            "quantity": 2,
        },
    ]
}

SECOND_EXAMPLE = {
    "sales": [
        {
            "sale_external_id": "1000",
            "sale_customer_id": "A501",
            "sale_date": "2017-12-01T13:11:23Z",
            "sale_shop_id": "1",
            "sale_discount": 0,
            "sale_total": 5160,
            "sale_payment_method": "Credit Card",
            "product_id": "SKU0435",
            "unit_price": 1200,
            "quantity": 1,
            "total": 1200,
        },
        {
            "sale_external_id": "1000",
            "product_id": "SKU3429",
            "unit_price": 2080,
            "quantity": 2,
            "discount": 200,
            "total": 3960,
        },
    ]
}


def upload(client, rows, path=UPLOAD_PATH):
    return client.post(path, data={"sales": rows}, format="json")


def custobar_sale(project, external_id) -> Sale:
    return Sale.objects.get(project=project, channel=Sale.Channel.CUSTOBAR, external_id=external_id)


def lines_of(sale) -> list[tuple]:
    """(row id, product external id, quantity, unit price, discount, total, tags) per line, in order."""
    return [
        (line.external_id, line.product.external_id if line.product else None, line.quantity, line.unit_price,
         line.discount, line.line_total, line.tags)
        for line in sale.lines.select_related("product").order_by("position")
    ]  # fmt: skip
