"""Admin for projects and keys: keys are created, rotated and revoked only through the services."""

from django.contrib import admin, messages
from django.template.response import TemplateResponse

from apikeys.forms import KeyCreateForm, KeyRotateForm
from apikeys.models import APIKey, Project
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
    list_display = ["name", "slug", "currency", "time_zone", "created_at"]
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
            api_key_revoke(api_key=api_key)
            self.log_change(request, api_key, "Revoked")
        self.message_user(request, f"Revoked {queryset.count()} key(s).", messages.SUCCESS)
