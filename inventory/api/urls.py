"""URLs of the inventory app's APIs."""

urlpatterns = []
