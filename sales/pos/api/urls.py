"""URLs of the POS side of the ledger: the connecteam transactions and the native locations API."""

from django.urls import re_path

from sales.pos.api.connecteam import TransactionsView, TransactionView
from sales.pos.api.locations import LocationViewSet
from salesledger.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("api/v1/locations", LocationViewSet, basename="api-location")

urlpatterns = [
    re_path(r"^sales/v1/transactions/?$", TransactionsView.as_view(), name="connecteam-transactions"),
    re_path(
        r"^sales/v1/transactions/(?P<transactionId>[^/]+)/?$", TransactionView.as_view(), name="connecteam-transaction"
    ),
    *router.urls,
]
