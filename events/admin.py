"""Admin for events and webhooks: read the outbox, manage endpoints and resend deliveries through the services."""

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse

from events.models import Event
from events.webhooks import services as webhooks
from events.webhooks.forms import EndpointForm
from events.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def _secrets_page(request, modeladmin, endpoints):
    """Secrets are rendered, never redirected with: they exist on this page only."""
    context = {**modeladmin.admin_site.each_context(request), "title": "Signing secrets", "endpoints": endpoints}
    return TemplateResponse(request, "admin/events/endpoint_secrets.html", context)


class EndpointAdminForm(EndpointForm, forms.ModelForm):
    class Meta:
        model = WebhookEndpoint
        fields = ["project", "url", "event_types", "description", "enabled"]

    def __init__(self, *args, instance=None, **kwargs):
        super().__init__(*args, instance=instance, **kwargs)
        if instance is not None and instance.pk:
            self.initial["event_types"] = ", ".join(instance.event_types)
            self.fields["project"].disabled = True


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class DeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    fields = ["event", "status", "attempts", "last_status_code", "last_attempt_at", "next_attempt_at"]
    readonly_fields = fields
    ordering = ["-created_at"]
    extra = 0
    max_num = 0
    show_change_link = True
    can_delete = False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = EndpointAdminForm
    list_display = ["url", "project", "enabled", "event_types", "created_at", "disabled_reason"]
    list_filter = ["enabled", "project"]
    search_fields = ["url", "description", "project__slug"]
    list_select_related = ["project"]
    readonly_fields = ["public_id", "created_at", "failing_since", "disabled_reason"]
    actions = ["rotate_secrets", "send_test_events"]

    def get_inlines(self, request, obj):
        return [DeliveryInline] if obj is not None else []

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in ("url", "event_types", "description")}
        if change:
            webhooks.endpoint_update(endpoint=obj, **data, enabled=form.cleaned_data["enabled"])
        else:
            created = webhooks.endpoint_create(project=form.cleaned_data["project"], **data)
            obj.pk, obj.secret = created.pk, created.secret

    def response_add(self, request, obj, post_url_continue=None):
        return _secrets_page(request, self, [obj])

    def delete_model(self, request, obj):
        webhooks.endpoint_delete(endpoint=obj)

    @admin.action(description="Rotate the signing secret (the new one is shown once)")
    def rotate_secrets(self, request, queryset):
        return _secrets_page(request, self, [webhooks.endpoint_secret_rotate(endpoint=e) for e in queryset])

    @admin.action(description="Send a test event (ping)")
    def send_test_events(self, request, queryset):
        for endpoint in queryset:
            try:
                webhooks.endpoint_ping(endpoint=endpoint, actor_user=request.user)
            except webhooks.EndpointDisabled as error:
                self.message_user(request, f"{endpoint}: {error.message}", messages.WARNING)
            else:
                self.message_user(request, f"{endpoint}: a ping is on its way.", messages.SUCCESS)


class AttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ["attempted_at", "status_code", "duration_ms", "error", "response_body"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "event", "endpoint", "status", "attempts", "last_status_code", "next_attempt_at"]
    list_filter = ["status", "endpoint__project"]
    list_select_related = ["event", "endpoint"]
    search_fields = ["endpoint__url"]
    inlines = [AttemptInline]
    actions = ["resend"]

    @admin.action(description="Resend now (a new series of retries)")
    def resend(self, request, queryset):
        for delivery in queryset.select_related("endpoint"):
            try:
                webhooks.delivery_resend(delivery=delivery)
            except webhooks.EndpointDisabled as error:
                self.message_user(request, f"{delivery.public_id}: {error.message}", messages.WARNING)
        self.message_user(request, "Queued again.", messages.SUCCESS)


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "type", "project", "created", "actor_display", "object_id", "request_id"]
    list_filter = ["type", "project"]
    search_fields = ["object_id", "request_id", "actor"]
    list_select_related = ["project"]
    date_hierarchy = "created"
