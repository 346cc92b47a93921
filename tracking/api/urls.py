"""URLs of the tracking app: the track dialect at its documented paths and the native read API."""

from django.urls import re_path

from salesledger.routers import OptionalSlashRouter
from tracking.api.native import ConversionViewSet, CustomerViewSet
from tracking.api.track import TrackLeadView, TrackSaleView

router = OptionalSlashRouter()
router.register("api/v1/customers", CustomerViewSet, basename="customer")
router.register("api/v1/conversions", ConversionViewSet, basename="conversion")

urlpatterns = [
    re_path(r"^track/sale/?$", TrackSaleView.as_view(), name="track-sale"),
    re_path(r"^track/lead/?$", TrackLeadView.as_view(), name="track-lead"),
    *router.urls,
]
