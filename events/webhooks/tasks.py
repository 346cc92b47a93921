"""The webhook tasks (Django's Tasks API): thin, they call the services that hold the state."""

from django_tasks import task

from events.webhooks import services


@task()
def webhook_deliver(delivery_id: str) -> None:
    """Make the next attempt of one delivery, if it is still due and no other worker holds it."""
    services.delivery_send(delivery_id=delivery_id)


@task()
def webhooks_sweep() -> int:
    """Queue every due delivery that nothing is taking care of."""
    return services.deliveries_sweep()
