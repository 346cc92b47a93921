"""URLs of the inventory app's APIs: with and without a trailing slash, never a redirect."""

from inventory.api.native import ProductViewSet, StockMovementViewSet
from salesledger.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("api/v1/products", ProductViewSet, basename="product")
router.register("api/v1/stock-movements", StockMovementViewSet, basename="stock-movement")

urlpatterns = router.urls
