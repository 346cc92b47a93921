"""Owner pages: the projects a user owns, their API keys (create, regenerate, revoke) and their webhook
endpoints (create, rotate the secret, enable, disable, test, resend)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_POST

from apikeys.forms import KeyCreateForm, KeyRotateForm
from apikeys.models import APIKey
from apikeys.selectors import REQUESTS_SHOWN_PER_KEY, api_keys_of, projects_owned_by, recent_requests_of
from apikeys.services import api_key_create, api_key_revoke, api_key_rotate
from events.webhooks import services as webhooks
from events.webhooks.forms import EndpointForm
from events.webhooks.models import WebhookDelivery, WebhookEndpoint
from events.webhooks.selectors import endpoints_with_recent_deliveries


def _owned_project(user, slug):
    return get_object_or_404(projects_owned_by(user), slug=slug)


@login_required
def project_list(request):
    return render(request, "apikeys/project_list.html", {"projects": projects_owned_by(request.user)})


# The secret of a key just issued waits in the (server-side) session for the one page that shows it:
# the POST redirects (Post/Redirect/Get), so a reload never posts again and never shows the secret twice.
ISSUED_SESSION_KEY = "apikeys.issued"


def _show_once(request, issued) -> None:
    request.session[ISSUED_SESSION_KEY] = {
        "key_id": str(issued.api_key.pk), "name": issued.api_key.name, "secret": issued.secret,
    }  # fmt: skip


def _render_keys(request, project, *, issued=None, create_form=None, status=200):
    context = {
        "project": project,
        "keys": api_keys_of(project),
        "issued": issued,
        "create_form": create_form or KeyCreateForm(),
        "rotate_form": KeyRotateForm(),
    }
    response = render(request, "apikeys/key_list.html", context, status=status)
    if issued is not None:
        # The page holds a secret: no browser or proxy cache may keep a copy (back button, shared cache).
        add_never_cache_headers(response)
    return response


@login_required
def key_list(request, slug):
    project = _owned_project(request.user, slug)
    issued = request.session.pop(ISSUED_SESSION_KEY, None)
    if issued is not None and not project.api_keys.filter(pk=issued["key_id"]).exists():
        issued = None
    return _render_keys(request, project, issued=issued)


@login_required
@require_POST
def key_create(request, slug):
    project = _owned_project(request.user, slug)
    # The expiry is entered in the project's time zone, as the page says.
    with timezone.override(project.tzinfo):
        form = KeyCreateForm(request.POST)
        if not form.is_valid():
            return _render_keys(request, project, create_form=form, status=400)
    issued = api_key_create(
        project=project, name=form.cleaned_data["name"], user=request.user, expires_at=form.cleaned_data["expires_at"]
    )
    _show_once(request, issued)
    return redirect("key-list", slug=slug)


@login_required
@require_POST
def key_rotate(request, slug, key_id):
    project = _owned_project(request.user, slug)
    api_key = get_object_or_404(APIKey, project=project, pk=key_id)
    form = KeyRotateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a grace period.")
        return redirect("key-list", slug=slug)
    try:
        issued = api_key_rotate(api_key=api_key, grace=form.cleaned_data["grace"], user=request.user)
    except ValueError as error:
        messages.error(request, str(error))
        return redirect("key-list", slug=slug)
    _show_once(request, issued)
    return redirect("key-list", slug=slug)


@login_required
@require_POST
def key_revoke(request, slug, key_id):
    project = _owned_project(request.user, slug)
    api_key = get_object_or_404(APIKey, project=project, pk=key_id)
    api_key_revoke(api_key=api_key, user=request.user)
    messages.success(request, f"Key '{api_key.name}' ({api_key.display_prefix}…) is revoked.")
    return redirect("key-list", slug=slug)


@login_required
def key_requests(request, slug, key_id):
    """The key's last requests: status, path, request id and the error it was sent, to debug an integration."""
    project = _owned_project(request.user, slug)
    api_key = get_object_or_404(APIKey, project=project, pk=key_id)
    context = {
        "project": project, "key": api_key, "requests": recent_requests_of(api_key), "shown": REQUESTS_SHOWN_PER_KEY,
    }  # fmt: skip
    return render(request, "apikeys/key_requests.html", context)


def _render_webhooks(request, project, *, revealed=None, form=None, status=200):
    context = {
        "project": project,
        "endpoints": endpoints_with_recent_deliveries(project=project),
        "revealed": revealed,
        "form": form or EndpointForm(),
    }
    return render(request, "apikeys/webhook_list.html", context, status=status)


def _owned_endpoint(request, slug, endpoint_id):
    project = _owned_project(request.user, slug)
    return project, get_object_or_404(WebhookEndpoint, project=project, pk=endpoint_id)


@login_required
def webhook_list(request, slug):
    return _render_webhooks(request, _owned_project(request.user, slug))


@login_required
@require_POST
def webhook_create(request, slug):
    project = _owned_project(request.user, slug)
    form = EndpointForm(request.POST)
    if not form.is_valid():
        return _render_webhooks(request, project, form=form, status=400)
    endpoint = webhooks.endpoint_create(project=project, **form.cleaned_data)
    # Rendered, not redirected: the secret must never be stored to survive a redirect.
    return _render_webhooks(request, project, revealed=endpoint)


@login_required
@require_POST
def webhook_rotate(request, slug, endpoint_id):
    project, endpoint = _owned_endpoint(request, slug, endpoint_id)
    return _render_webhooks(request, project, revealed=webhooks.endpoint_secret_rotate(endpoint=endpoint))


@login_required
@require_POST
def webhook_toggle(request, slug, endpoint_id):
    _, endpoint = _owned_endpoint(request, slug, endpoint_id)
    enabled = request.POST.get("enabled") == "1"
    webhooks.endpoint_update(endpoint=endpoint, enabled=enabled)
    messages.success(request, f"{endpoint.url} is {'enabled' if enabled else 'disabled'}.")
    return redirect("webhook-list", slug=slug)


@login_required
@require_POST
def webhook_ping(request, slug, endpoint_id):
    _, endpoint = _owned_endpoint(request, slug, endpoint_id)
    try:
        webhooks.endpoint_ping(endpoint=endpoint, actor_user=request.user)
    except webhooks.EndpointDisabled as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"A test event (ping) is on its way to {endpoint.url}.")
    return redirect("webhook-list", slug=slug)


@login_required
@require_POST
def webhook_delete(request, slug, endpoint_id):
    _, endpoint = _owned_endpoint(request, slug, endpoint_id)
    webhooks.endpoint_delete(endpoint=endpoint)
    messages.success(request, f"{endpoint.url} is deleted.")
    return redirect("webhook-list", slug=slug)


@login_required
@require_POST
def webhook_resend(request, slug, delivery_id):
    project = _owned_project(request.user, slug)
    delivery = get_object_or_404(WebhookDelivery.objects.select_related("endpoint"), endpoint__project=project,
                                 pk=delivery_id)  # fmt: skip
    try:
        webhooks.delivery_resend(delivery=delivery)
    except webhooks.EndpointDisabled as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Delivery {delivery.public_id} is queued again.")
    return redirect("webhook-list", slug=slug)
