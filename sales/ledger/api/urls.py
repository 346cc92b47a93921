"""URLs of the ledger's APIs (costtrack, sells, native sales), at their documented paths, each with and
without a trailing slash."""

from django.urls import re_path

from sales.ledger.api import costtrack, native, sells
from salesledger.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("api/v1/sales", native.SaleViewSet, basename="api-sale")

urlpatterns = [
    re_path(r"^api/sales/create/?$", costtrack.CosttrackSaleCreateView.as_view(), name="costtrack-sale-create"),
    re_path(r"^sells/?$", sells.SellsView.as_view(), name="sells"),
    re_path(r"^sells/detail/(?P<sale_id>[^/]+)/?$", sells.SellDetailView.as_view(), name="sells-detail"),
    re_path(r"^sells/confirm/(?P<sale_id>[^/]+)/?$", sells.SellConfirmView.as_view(), name="sells-confirm"),
    re_path(r"^sells/cancel/(?P<sale_id>[^/]+)/?$", sells.SellCancelView.as_view(), name="sells-cancel"),
    *router.urls,
]
