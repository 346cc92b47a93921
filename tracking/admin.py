"""Admin of conversion tracking: customers with their events, events read-only, exchange rates editable."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from salesledger.money import UnknownCurrency, normalize_currency
from tracking.models import Customer, ExchangeRate, LeadEvent, SaleEvent
from tracking.services import CUSTOMER_EDITABLE_FIELDS, customer_update, exchange_rate_save


class ReadOnlyMixin:
    """Events are what integrations tracked: staff read them, nobody edits them by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class LeadEventInline(ReadOnlyMixin, admin.TabularInline):
    model = LeadEvent
    fields = ["event_name", "click_id", "metadata", "created_at"]
    readonly_fields = fields
    ordering = ["-created_at"]
    extra = 0
    show_change_link = True


class SaleEventInline(ReadOnlyMixin, admin.TabularInline):
    model = SaleEvent
    fk_name = "customer"
    fields = ["event_name", "amount", "original_amount", "original_currency", "payment_processor", "invoice_id",
              "lead_event", "created_at"]  # fmt: skip
    readonly_fields = fields
    ordering = ["-created_at"]
    extra = 0
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("lead_event")  # shown on every row


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "external_id", "public_id", "email", "phone", "project", "click_id", "created_at"]
    list_filter = ["project", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["external_id", "public_id", "name", "email", "phone", "click_id"]
    list_select_related = ["project"]
    show_full_result_count = False
    fields = ["public_id", "project", "external_id", *CUSTOMER_EDITABLE_FIELDS, "click_id", "created_at"]
    readonly_fields = ["public_id", "project", "external_id", "click_id", "created_at"]
    inlines = [LeadEventInline, SaleEventInline]

    def has_add_permission(self, request):
        return False  # Customers come from tracking calls and uploads, with their ids.

    def save_model(self, request, obj, form, change):
        customer_update(customer=obj, **{field: form.cleaned_data[field] for field in form.changed_data})


@admin.register(LeadEvent)
class LeadEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["event_name", "customer", "click_id", "project", "created_at"]
    list_filter = ["project", "event_name", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["event_name", "click_id", "customer__external_id", "customer__email"]
    list_select_related = ["customer", "project"]
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(SaleEvent)
class SaleEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["event_name", "customer", "amount", "original_amount", "original_currency",
                    "payment_processor", "invoice_id", "project", "created_at"]  # fmt: skip
    list_filter = ["project", "payment_processor", "original_currency", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["event_name", "invoice_id", "customer__external_id", "customer__email"]
    list_select_related = ["customer", "project"]
    date_hierarchy = "created_at"
    show_full_result_count = False


class ExchangeRateForm(forms.ModelForm):
    class Meta:
        model = ExchangeRate
        fields = ["currency", "rate", "effective_date"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # Stored with 10 decimals; edited without the trailing zeros.
            self.initial["rate"] = self.instance.rate.normalize()

    def clean_currency(self):
        try:
            return normalize_currency(self.cleaned_data["currency"])
        except UnknownCurrency as error:
            raise ValidationError(str(error)) from error


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    form = ExchangeRateForm
    list_display = ["currency", "rate_shown", "effective_date"]
    list_filter = ["currency"]
    search_fields = ["currency"]
    date_hierarchy = "effective_date"

    @admin.display(description="Units per 1 USD", ordering="rate")
    def rate_shown(self, rate):
        return f"{rate.rate:.6f}".rstrip("0").rstrip(".")

    def save_model(self, request, obj, form, change):
        exchange_rate_save(rate=obj)
