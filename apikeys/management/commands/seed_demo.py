"""seed_demo: a demo owner, project and key, then each app's demo data (its `demo.py`). Re-runnable."""

import importlib
import importlib.util
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand

from apikeys.models import Project
from apikeys.selectors import api_key_resolve
from apikeys.services import api_key_create, api_key_rotate, project_create, user_get_or_create

DEMO_USER = "demo"
DEMO_PASSWORD = "demo-pass-2026"
DEMO_SLUG = "demo"
DEMO_KEY_NAME = "demo"


class Command(BaseCommand):
    help = (
        "Create demo data; running it again adds nothing and prints the same demo key, kept in "
        "settings.DEMO_KEY_FILE (only the demo key's secret is ever written down)."
    )

    def handle(self, *args, **options):
        owner = user_get_or_create(username=DEMO_USER, password=DEMO_PASSWORD, superuser=True)
        project = Project.objects.filter(slug=DEMO_SLUG).first() or project_create(
            slug=DEMO_SLUG, name="Demo shop", owner=owner, currency="USD", time_zone="Europe/Helsinki"
        )
        api_key, secret, replaced = self.demo_key(project, owner)

        for module in _demo_modules():
            module.seed(project=project, user=owner, api_key=api_key, stdout=self.stdout)

        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"  login:    {DEMO_USER} / {DEMO_PASSWORD}  (owner pages /projects/, admin /admin/)")
        self.stdout.write(f"  project:  {project.slug}")
        self.stdout.write(f"  API key:  {secret}")
        if replaced is not None:
            self.stdout.write(self.style.WARNING(
                f"  The demo key {replaced.display_prefix} was revoked and replaced by the key above: its secret was "
                f"not in {settings.DEMO_KEY_FILE} (deleted, or another database). Scripts using it need the new key."
            ))  # fmt: skip

    def demo_key(self, project, owner):
        """(key, secret, the key it replaced or None): the key of the key file while it works, else a new one.

        The secret of a key is stored only as a hash, so the demo key's is kept in the key file (git-ignored,
        readable by its owner only) to print it again.
        """
        key_file = Path(settings.DEMO_KEY_FILE)
        kept = key_file.read_text().strip() if key_file.exists() else ""
        api_key = api_key_resolve(kept) if kept else None
        if api_key is not None and api_key.project_id == project.pk and api_key.name == DEMO_KEY_NAME:
            return api_key, kept, None
        previous = project.api_keys.filter(name=DEMO_KEY_NAME, revoked_at__isnull=True, replaced_by__isnull=True)
        previous = previous.first()
        if previous is None:
            issued = api_key_create(project=project, name=DEMO_KEY_NAME, user=owner)
        else:
            issued = api_key_rotate(api_key=previous, grace="none")
        key_file.write_text(issued.secret + "\n")
        key_file.chmod(0o600)
        return issued.api_key, issued.secret, previous


def _demo_modules():
    """Each installed app's `demo` module and its sub-packages' (`subpackages` on the app's config), in
    INSTALLED_APPS (dependency) order."""
    packages = []
    for config in apps.get_app_configs():
        packages += [config.name, *(f"{config.name}.{name}" for name in getattr(config, "subpackages", ()))]
    names = [f"{package}.demo" for package in packages]
    return [importlib.import_module(name) for name in names if importlib.util.find_spec(name) is not None]
