"""Admin for projects and keys: keys are created, rotated and revoked only through the services."""

from django.contrib import admin, messages
from django.template.response import TemplateResponse

from apikeys.forms import KeyCreateForm, KeyRotateForm
from apikeys.models import APIKey, IdempotencyKey, Project, RequestLog
from apikeys.services import api_key_create, api_key_revoke, api_key_rotate


def _issued_keys_page(request, title, issued, modeladmin):
    context = {**modeladmin.admin_site.each_context(request), "title": title, "issued": issued}
    return TemplateResponse(request, "admin/apikeys/issued_keys.html", context)


def _action_form_page(request, title, form, queryset, action, modeladmin):
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "form": form,
        "objects": queryset,
        "action": action,
        "opts": modeladmin.model._meta,
    }
    return TemplateResponse(request, "admin/apikeys/action_form.html", context)


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "currency", "time_zone", "rate_limit", "created_at"]
    search_fields = ["name", "slug"]
    filter_horizontal = ["owners"]
    prepopulated_fields = {"slug": ["name"]}
    actions = ["create_key"]

    @admin.action(description="Create an API key (the secret is shown once)")
    def create_key(self, request, queryset):
        form = KeyCreateForm(request.POST if "confirm" in request.POST else None)
        if not form.is_valid():
            return _action_form_page(request, "Create API key", form, queryset, "create_key", self)
        issued = [
            api_key_create(project=project, name=form.cleaned_data["name"], user=request.user,
                           expires_at=form.cleaned_data["expires_at"])
            for project in queryset
        ]  # fmt: skip
        for key in issued:
            self.log_addition(request, key.api_key, f"Created API key {key.api_key.display_prefix}")
        return _issued_keys_page(request, "New API keys", issued, self)


@admin.register(APIKey)
class APIKeyAdmin(admin.ModelAdmin):
    list_display = ["display_prefix", "name", "project", "user", "created_at", "last_used_at", "expires_at", "status"]
    list_filter = ["project", "revoked_at", "created_at"]
    search_fields = ["name", "prefix", "project__name", "project__slug", "user__username"]
    list_select_related = ["project", "user", "replaced_by"]
    fields = [
        "display_prefix", "name", "project", "user", "created_at", "last_used_at", "expires_at", "revoked_at",
        "replaced_by", "status",
    ]  # fmt: skip
    readonly_fields = fields
    actions = ["rotate_keys", "revoke_keys"]

    def has_add_permission(self, request):
        return False  # Keys are issued by the project action, so the secret is shown exactly once.

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Rotate (regenerate) selected keys")
    def rotate_keys(self, request, queryset):
        form = KeyRotateForm(request.POST if "confirm" in request.POST else None)
        if not form.is_valid():
            return _action_form_page(request, "Rotate API keys", form, queryset, "rotate_keys", self)
        issued = []
        for api_key in queryset:
            try:
                issued.append(api_key_rotate(api_key=api_key, grace=form.cleaned_data["grace"], user=request.user))
            except ValueError as error:
                self.message_user(request, f"{api_key}: {error}", messages.WARNING)
                continue
            self.log_change(request, api_key, f"Rotated with grace {form.cleaned_data['grace']}")
        return _issued_keys_page(request, "Rotated API keys", issued, self)

    @admin.action(description="Revoke selected keys")
    def revoke_keys(self, request, queryset):
        for api_key in queryset:
            api_key_revoke(api_key=api_key, user=request.user)
            self.log_change(request, api_key, "Revoked")
        self.message_user(request, f"Revoked {queryset.count()} key(s).", messages.SUCCESS)


class StatusClassFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status_class"

    def lookups(self, request, model_admin):
        return [("2", "2xx success"), ("3", "3xx"), ("4", "4xx client error"), ("5", "5xx server error")]

    def queryset(self, request, queryset):
        if self.value() in {"2", "3", "4", "5"}:
            low = int(self.value()) * 100
            return queryset.filter(status_code__gte=low, status_code__lt=low + 100)
        return queryset


class PathPrefixFilter(admin.SimpleListFilter):
    """By API: the dialects' path prefixes, so staff need not type paths."""

    title = "API"
    parameter_name = "api"
    PREFIXES = [
        ("/api/sales/create", "costtrack"), ("/sells", "sells"), ("/track/", "track"),
        ("/api/sales/upload", "custobar"), ("/sales/v1/", "connecteam"), ("/api/v1/", "native"),
    ]  # fmt: skip

    def lookups(self, request, model_admin):
        return [(prefix, name) for prefix, name in self.PREFIXES]

    def queryset(self, request, queryset):
        if self.value() in dict(self.PREFIXES):
            return queryset.filter(path__startswith=self.value())
        return queryset


@admin.register(RequestLog)
class RequestLogAdmin(admin.ModelAdmin):
    """Read-only: what each key sent and what it was answered, to see why an integration failed."""

    list_display = ["created_at", "method", "path", "status_code", "duration_ms", "api_key", "project", "request_id"]
    list_filter = [StatusClassFilter, PathPrefixFilter, "method", "project", "api_key", "created_at"]
    search_fields = ["path", "request_id", "=client_address"]
    date_hierarchy = "created_at"
    list_select_related = ["api_key", "project"]
    show_full_result_count = False  # counting a large log on every page view costs more than it tells

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    list_display = ["key", "project", "method", "path", "status_code", "claimed_at", "completed_at", "expires_at"]
    list_filter = ["project", "method", "status_code"]
    search_fields = ["key", "path"]
    exclude = ["body"]
    list_select_related = ["project"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
