"""Admin actions and management commands issue, rotate and revoke keys through the services."""

import io
import re

import pytest
from django.apps import apps
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from apikeys.models import APIKey, Project
from tests.helpers import KeyedClient

pytestmark = pytest.mark.django_db
SECRET = re.compile(r"sl_live_[a-z0-9]{8}_[A-Za-z0-9]{40}")


def works(secret: str) -> bool:
    client = KeyedClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client.get("/api/v1/project/").status_code == 200


def test_admin_create_key_action_shows_secret_once(staff_client, project):
    form = staff_client.post("/admin/apikeys/project/", {"action": "create_key", "_selected_action": [project.pk]})
    assert form.status_code == 200 and b'name="confirm"' in form.content

    done = staff_client.post(
        "/admin/apikeys/project/",
        {"action": "create_key", "_selected_action": [project.pk], "confirm": "yes", "name": "POS"},
    )
    [secret] = SECRET.findall(done.content.decode())
    assert works(secret)
    key = APIKey.objects.get(project=project, name="POS")
    assert key.user.username == "staff"
    assert LogEntry.objects.filter(object_id=str(key.pk)).exists()


def test_admin_rotate_action_with_grace(staff_client, issued_key):
    done = staff_client.post(
        "/admin/apikeys/apikey/",
        {"action": "rotate_keys", "_selected_action": [issued_key.api_key.pk], "confirm": "yes", "grace": "24h"},
    )
    [secret] = SECRET.findall(done.content.decode())
    assert works(secret) and works(issued_key.secret)
    assert APIKey.objects.get(pk=issued_key.api_key.pk).status == "grace"


def test_admin_revoke_action(staff_client, issued_key):
    staff_client.post("/admin/apikeys/apikey/", {"action": "revoke_keys", "_selected_action": [issued_key.api_key.pk]})
    assert not works(issued_key.secret)


def test_admin_key_pages_never_show_the_hash(staff_client, issued_key):
    stored = APIKey.objects.get(pk=issued_key.api_key.pk)
    for path in ("/admin/apikeys/apikey/", f"/admin/apikeys/apikey/{stored.pk}/change/"):
        response = staff_client.get(path)
        assert response.status_code == 200
        assert stored.hashed_key not in response.content.decode()


def test_create_project_and_key_commands(capsys):
    call_command("create_project", "shop", name="My shop", owner="alice", currency="eur", timezone="Europe/Helsinki")
    project = Project.objects.get(slug="shop")
    assert (project.currency, project.time_zone) == ("EUR", "Europe/Helsinki")
    assert list(project.owners.values_list("username", flat=True)) == ["alice"]

    out = io.StringIO()
    call_command("create_api_key", "shop", name="webhook", stdout=out)
    secret = out.getvalue().strip()
    assert SECRET.fullmatch(secret)
    assert works(secret)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"currency": "XYZ"}, "currency"),
        ({"timezone": "Mars/Base"}, "time_zone"),
        ({"slug": "my shop!"}, "slug"),
        ({"owner": "a" * 151}, "username: Ensure this value has at most 150 characters"),
    ],
)
def test_create_project_refuses_bad_input_and_writes_nothing(options, message):
    options = {"slug": "shop", "owner": "alice", **options}
    with pytest.raises(CommandError, match=message):
        call_command("create_project", options.pop("slug"), name="Shop", **options)
    assert not Project.objects.exists()
    assert not get_user_model().objects.exists(), "no owner left behind without a project"


def test_create_api_key_for_unknown_project():
    with pytest.raises(CommandError, match="No project"):
        call_command("create_api_key", "nope", name="x")


@pytest.mark.parametrize(
    ("name", "message"),
    [("k" * 101, "--name: Ensure this value has at most 100 characters"), ("", "--name: This field cannot be blank.")],
)
def test_create_api_key_refuses_a_name_the_key_cannot_hold(project, name, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_api_key", project.slug, name=name)
    assert not APIKey.objects.exists()


def demo_row_counts() -> dict:
    """Rows of every model of ours, but the keys: a second run replaces the demo key (see seed_demo)."""
    models = [
        model
        for name in ("apikeys", "inventory", "tracking", "sales")
        for model in apps.get_app_config(name).get_models()
    ]
    return {model.__name__: model.objects.count() for model in models if model is not APIKey}


@pytest.fixture
def demo_key_file(settings, tmp_path):
    settings.DEMO_KEY_FILE = str(tmp_path / "demo-api-key")
    return tmp_path / "demo-api-key"


def test_seed_demo_twice_duplicates_nothing_and_prints_the_same_working_key(demo_key_file):
    first, second = io.StringIO(), io.StringIO()
    call_command("seed_demo", stdout=first)
    counts = demo_row_counts()
    assert counts["Project"] == 1
    call_command("seed_demo", stdout=second)
    assert demo_row_counts() == counts
    [old] = SECRET.findall(first.getvalue())
    [new] = SECRET.findall(second.getvalue())
    assert new == old and works(new)
    assert "replaced" not in second.getvalue()
    assert demo_key_file.read_text() == f"{new}\n"
    assert oct(demo_key_file.stat().st_mode & 0o777) == "0o600"
    demo_owner = get_user_model().objects.get(username="demo")
    assert demo_owner.is_staff and demo_owner.is_superuser and demo_owner.check_password("demo-pass-2026")
    assert APIKey.objects.filter(project__slug="demo", revoked_at__isnull=True).count() == 1


def test_seed_demo_without_its_key_file_replaces_the_key_and_says_so(demo_key_file):
    first, second = io.StringIO(), io.StringIO()
    call_command("seed_demo", stdout=first)
    [old] = SECRET.findall(first.getvalue())
    demo_key_file.unlink()

    call_command("seed_demo", stdout=second)

    [new] = SECRET.findall(second.getvalue())
    assert works(new) and not works(old)
    assert second.getvalue().splitlines()[-1] == (
        f"  The demo key {old[:16]} was revoked and replaced by the key above: its secret was not in "
        f"{demo_key_file} (deleted, or another database). Scripts using it need the new key."
    )
    assert demo_key_file.read_text() == f"{new}\n"
