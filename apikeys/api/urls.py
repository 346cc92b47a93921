from django.urls import re_path
from rest_framework.routers import SimpleRouter

from apikeys.api.native import APIKeyViewSet, ProjectView

router = SimpleRouter(trailing_slash="/?")
router.register("api/v1/keys", APIKeyViewSet, basename="api-key")

urlpatterns = [re_path(r"^api/v1/project/?$", ProjectView.as_view(), name="api-project"), *router.urls]
