from django.urls import re_path

from apikeys.api.native import APIKeyViewSet, ProjectView
from salesledger.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("api/v1/keys", APIKeyViewSet, basename="api-key")

urlpatterns = [re_path(r"^api/v1/project/?$", ProjectView.as_view(), name="api-project"), *router.urls]
