"""URLs of the sales app's APIs."""

urlpatterns = []
