"""The sales app: one Django app (label `sales`, one set of migrations) made of sub-packages, each with
its own rooms (models, services, selectors, api, admin): see docs/architecture.md."""

from importlib import import_module

from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.utils.module_loading import module_has_submodule


class SalesConfig(AppConfig):
    name = "sales"
    # Dependency order: the ledger first; pos and uploads write ledger sales; reporting reads them all.
    subpackages = ("ledger", "pos", "uploads", "reporting")

    def import_models(self):
        """Django imports `<app>.models`; this app's models live in its sub-packages' `models` modules."""
        self.models = self.apps.all_models[self.label]
        for name in self.subpackages:
            self.models_module = import_module(f"{self.name}.{name}.models")

    def ready(self):
        # What admin.autodiscover() does for `<app>.admin`, for each sub-package that has one.
        for name in self.subpackages:
            if module_has_submodule(package := import_module(f"{self.name}.{name}"), "admin"):
                import_module(f"{package.__name__}.admin")
        from sales.reporting.models import register_sqlite_functions

        connection_created.connect(register_sqlite_functions, dispatch_uid="sales_local_day")
