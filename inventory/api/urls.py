"""URLs of the inventory app's APIs: with and without a trailing slash, never a redirect."""

from rest_framework.routers import SimpleRouter

from inventory.api.native import ProductViewSet, StockMovementViewSet

router = SimpleRouter()
# DRF 3.18 reads `trailing_slash` as a boolean ("/?" would mean "/"): set the optional slash itself.
router.trailing_slash = "/?"
router.register("api/v1/products", ProductViewSet, basename="product")
router.register("api/v1/stock-movements", StockMovementViewSet, basename="stock-movement")

urlpatterns = router.urls
