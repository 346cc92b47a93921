"""Demo conversions for `seed_demo`: a few customers, their leads and sales (converted at the shipped
reference rates); never duplicated."""

from tracking.services import lead_event_track, sale_event_track

# external id -> (name, email, click id, lead event names, sales as (minor units, currency, processor, invoice id)).
DEMO_CUSTOMERS = {
    "demo-ann": ("Ann Andersson", "ann@example.com", "demo_click_1", ["Sign up"],
                 [(4900, "eur", "stripe", "demo-inv-1"), (4900, "eur", "stripe", "demo-inv-2")]),
    "demo-bo": ("Bo Berg", "bo@example.com", "demo_click_2", ["Sign up", "Started trial"],
                [(29900, "sek", "paddle", "demo-inv-3")]),
    "demo-chie": ("Chie Chiba", "", "demo_click_3", ["Sign up"], []),
}  # fmt: skip


def seed(*, project, user=None, api_key=None, stdout=None) -> None:
    """Create the demo customers the project lacks."""
    existing = set(project.customers.filter(external_id__in=DEMO_CUSTOMERS).values_list("external_id", flat=True))
    for external_id, (name, email, click_id, leads, sales) in DEMO_CUSTOMERS.items():
        if external_id in existing:
            continue
        for event_name in leads:
            lead_event_track(project=project, event_name=event_name, customer_external_id=external_id,
                             click_id=click_id, customer_name=name, customer_email=email or None)  # fmt: skip
        for amount, currency, processor, invoice_id in sales:
            sale_event_track(project=project, customer_external_id=external_id, amount=amount, currency=currency,
                             payment_processor=processor, invoice_id=invoice_id, event_name="Invoice paid")  # fmt: skip
    if stdout is not None:
        created = len(DEMO_CUSTOMERS) - len(existing)
        stdout.write(f"  conversions: {created} customers created, {len(existing)} already there")
