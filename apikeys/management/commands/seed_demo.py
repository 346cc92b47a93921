"""seed_demo: a demo owner, project and key, then each app's demo data (its `demo.py`). Re-runnable."""

import importlib
import importlib.util

from django.apps import apps
from django.core.management.base import BaseCommand

from apikeys.models import Project
from apikeys.services import api_key_create, api_key_rotate, project_create, user_get_or_create

DEMO_USER = "demo"
DEMO_PASSWORD = "demo-pass-2026"
DEMO_SLUG = "demo"
DEMO_KEY_NAME = "demo"


class Command(BaseCommand):
    help = "Create demo data; running it again adds nothing and issues a fresh demo key."

    def handle(self, *args, **options):
        owner = user_get_or_create(username=DEMO_USER, password=DEMO_PASSWORD, superuser=True)
        project = Project.objects.filter(slug=DEMO_SLUG).first() or project_create(
            slug=DEMO_SLUG, name="Demo shop", owner=owner, currency="USD", time_zone="Europe/Helsinki"
        )
        # The secret of an existing key cannot be shown again: replace the key instead of adding one.
        previous = project.api_keys.filter(name=DEMO_KEY_NAME, revoked_at__isnull=True, replaced_by__isnull=True)
        previous = previous.first()
        if previous is None:
            issued = api_key_create(project=project, name=DEMO_KEY_NAME, user=owner)
        else:
            issued = api_key_rotate(api_key=previous, grace="none")

        for module in _demo_modules():
            module.seed(project=project, user=owner, api_key=issued.api_key, stdout=self.stdout)

        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"  login:    {DEMO_USER} / {DEMO_PASSWORD}  (owner pages /projects/, admin /admin/)")
        self.stdout.write(f"  project:  {project.slug}")
        self.stdout.write(f"  API key:  {issued.secret}")


def _demo_modules():
    """Each installed app's `demo` module and its sub-packages' (`subpackages` on the app's config), in
    INSTALLED_APPS (dependency) order."""
    packages = []
    for config in apps.get_app_configs():
        packages += [config.name, *(f"{config.name}.{name}" for name in getattr(config, "subpackages", ()))]
    names = [f"{package}.demo" for package in packages]
    return [importlib.import_module(name) for name in names if importlib.util.find_spec(name) is not None]
