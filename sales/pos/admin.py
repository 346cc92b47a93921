"""Admin of the POS side: locations (changed through the services) and connecteam deletions, restorable."""

import json

from django.contrib import admin, messages
from django.utils.html import format_html

from sales.pos.models import Location, TransactionDeletion
from sales.pos.services import location_create, location_deactivate, location_update, pos_deletion_restore
from salesledger.errors import ServiceError


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "project", "address", "time_zone", "active"]
    list_filter = ["active", "project"]
    search_fields = ["name", "address", "project__name", "project__slug"]
    list_select_related = ["project"]
    actions = ["deactivate"]

    def get_readonly_fields(self, request, obj=None):
        return ["project"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in ["name", "address", "time_zone", "active"]}
        if change:
            location_update(location=obj, **fields)
        else:
            obj.pk = location_create(project=form.cleaned_data["project"], **fields).pk

    def has_delete_permission(self, request, obj=None):
        return False  # Transactions keep their location: deactivate it instead.

    @admin.action(description="Deactivate selected locations")
    def deactivate(self, request, queryset):
        for location in queryset:
            location_deactivate(location=location)
        self.message_user(request, f"{queryset.count()} location(s) deactivated.", messages.SUCCESS)


@admin.register(TransactionDeletion)
class TransactionDeletionAdmin(admin.ModelAdmin):
    """What connecteam clients deleted, by whom and in which request; staff restore it with one action."""

    list_display = [
        "deleted_at", "project", "location", "kind", "count", "start_time", "end_time", "user", "request_id",
        "restored_at",
    ]  # fmt: skip
    list_filter = ["kind", ("restored_at", admin.EmptyFieldListFilter), "project"]
    search_fields = ["request_id", "location__name", "project__slug"]
    list_select_related = ["project", "location", "user"]
    date_hierarchy = "deleted_at"
    fields = [
        "project", "location", "kind", "start_time", "end_time", "count", "user", "api_key", "request_id",
        "deleted_at", "restored_at", "restored_by", "deleted_rows",
    ]  # fmt: skip
    readonly_fields = fields
    actions = ["restore"]

    def has_restore_permission(self, request):
        return request.user.has_perm("sales.change_transactiondeletion")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # The record is what makes a deletion recoverable and accountable.

    @admin.display(description="Deleted transactions")
    def deleted_rows(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.rows, indent=2))

    @admin.action(description="Restore the deleted transactions", permissions=["restore"])
    def restore(self, request, queryset):
        restored = 0
        for deletion in queryset.order_by("deleted_at", "id"):
            try:
                restored += len(pos_deletion_restore(deletion=deletion, user=request.user))
            except ServiceError as error:
                self.message_user(request, f"{deletion}: {error.message}", messages.WARNING)
            else:
                self.log_change(request, deletion, f"Restored {deletion.count} transaction(s).")
        if restored:
            self.message_user(request, f"{restored} transaction(s) restored.", messages.SUCCESS)
        else:
            self.message_user(request, "Nothing was restored.", messages.WARNING)
