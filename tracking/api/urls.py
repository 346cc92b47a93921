"""URLs of the tracking app's APIs."""

urlpatterns = []
