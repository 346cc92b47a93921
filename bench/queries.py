"""Query counting: one request per workload, as wrk sends it, through Django's test client, counting
its SQL statements and showing which indexes the read paths' statements use (EXPLAIN, not run)."""

import base64
import json
import re
import time

from bench.seed import Seeded


def basic_credentials(key: str) -> str:
    """HTTP Basic with the key as user name and no password, as custobar clients send it."""
    return base64.b64encode(f"{key}:".encode()).decode()


def sample_requests(seeded: Seeded, session: str) -> dict:
    """One request per workload (two for create-then-confirm), as wrk sends them, for the test client."""
    product, others = seeded.products[0], seeded.products[1:4]
    bearer = {"Authorization": f"Bearer {seeded.api_key}"}
    three = [{"productId": other, "quantity": 1, "price": 12.5} for other in others]
    ten = [{"productId": other, "quantity": 1} for other in seeded.products[:10]]
    rows = [
        {"sale_external_id": f"sample-{index}", "sale_customer_id": seeded.customers[0],
         "sale_date": "2026-01-15T10:00:00Z", "external_id": f"sample-{index}-1",
         "product_id": seeded.product_external_ids[index % len(seeded.product_external_ids)],
         "unit_price": 1250, "quantity": 2}
        for index in range(1000)
    ]  # fmt: skip
    transactions = [
        {"locationId": seeded.location_id, "saleType": "SALE", "createdAt": int(time.time()) - index,
         "finalSaleAmount": 42.1, "taxAmount": 1.5, "currency": "USD"}
        for index in range(100)
    ]  # fmt: skip
    track = {
        "customerExternalId": seeded.customers[0], "amount": 1999, "currency": "usd", "eventName": "Purchase",
        "paymentProcessor": "stripe", "invoiceId": "sample-invoice", "metadata": None, "leadEventName": None,
        "clickId": None, "customerName": None, "customerEmail": None, "customerAvatar": None,
    }  # fmt: skip
    return {
        "floor": [("post", "/api/bench/floor", {}, bearer)],
        "costtrack_create": [("post", "/api/sales/create", {"productId": product, "quantity": 1,
                              "sellingPrice": 19.99, "category": "bench", "deductInventory": True}, bearer)],
        "sells_create_confirm": [("post", "/sells", {"products": three}, bearer),
                                 ("put", "/sells/confirm/{id}", {}, bearer)],
        "sells_list": [("get", "/sells", None, bearer)],
        "custobar_upload_1000": [("post", "/api/sales/upload/", {"sales": rows},
                                  {"Authorization": f"Basic {basic_credentials(seeded.api_key)}"})],
        "connecteam_batch_100": [("post", "/sales/v1/transactions", {"transactionsCreateRequest": transactions},
                                  {"X-API-KEY": seeded.api_key})],
        "track_sale": [("post", "/track/sale", track, bearer)],
        "contended_32": [("post", "/sells", {"products": ten}, bearer)],
        "dashboard": [("get", f"/projects/{seeded.project_slug}/", None, {"Cookie": f"sessionid={session}"})],
    }  # fmt: skip


def count_queries(seeded: Seeded, session: str, only: set[str] | None = None) -> dict[str, dict]:
    """SQL queries per request of each workload (or of those in `only`), counted once with Django's test
    client. The request log is not among them: its rows are written by the process's writer thread."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    results = {}
    # Record the key's last use first (written at most once a minute), so no sample pays for it.
    Client().post("/api/bench/floor", headers={"Authorization": f"Bearer {seeded.api_key}"})
    for name, requests in sample_requests(seeded, session).items():
        if only is not None and name not in only:
            continue
        client = Client(raise_request_exception=False)
        counts, statuses, sql, created_id = [], [], [], None
        for request in requests:
            with CaptureQueriesContext(connection) as queries:
                response = send(client, session, request, created_id)
            counts.append(len(queries))
            statuses.append(response.status_code)
            sql.extend(query["sql"] for query in queries.captured_queries)
            if name == "sells_create_confirm" and response.status_code == 201:
                created_id = response.json()["sell"]["id"]
        results[name] = {"queries": counts, "statuses": statuses}
        if name in PLANNED:
            results[name]["plans"] = plans(sql)
    return results


def send(client, session: str, request: tuple, created_id) -> object:
    """One request of `sample_requests` through the test client `client`: logged in as `session` where it
    sends the owner's cookie, `{id}` in its path the sale its round created (`created_id`)."""
    method, path, body, headers = request
    if "Cookie" in headers:
        client.cookies["sessionid"] = session
        headers = {}
    kwargs = {"headers": headers}
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    return getattr(client, method)(path.replace("{id}", str(created_id)), **kwargs)


# The read paths whose plans the report shows: they must walk an index, never the 200,000 sales.
PLANNED = {"sells_list", "dashboard"}
LEDGER_TABLES = (
    "sales_sale", "sales_saleline", "sales_salestally", "sales_channelsales", "sales_productsales",
    "sales_productmonthsales", "inventory_stock", "tracking_saleevent",
)  # fmt: skip


def plans(statements: list[str]) -> list[dict]:
    """The indexes PostgreSQL uses for each ledger query (EXPLAIN, not run), and any table it scans whole."""
    from django.db import connection

    found = []
    with connection.cursor() as cursor:
        for statement in statements:
            if not statement.lstrip().upper().startswith("SELECT") or not any(t in statement for t in LEDGER_TABLES):
                continue
            cursor.execute(f"EXPLAIN {statement}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
            found.append({
                "query": statement[:120],
                "indexes": sorted(set(re.findall(r"Index (?:Only )?Scan (?:Backward )?(?:using|on) (\w+)", plan))),
                "seq_scans": sorted(set(re.findall(r"Seq Scan on (\w+)", plan))),
            })  # fmt: skip
    return found
