"""Admin of the sales ledger: sales are read here and changed only through the sales services."""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join

from apikeys.models import Project
from events.selectors import events_of_object
from sales.ledger.models import Sale, SaleChannel, SaleLine, SaleStatus
from sales.ledger.services import LineInput, sale_cancel, sale_confirm, sale_create
from salesledger.errors import ServiceError, form_add_service_error


class ManualSaleForm(forms.Form):
    project = forms.ModelChoiceField(queryset=Project.objects.all())
    status = forms.ChoiceField(choices=[(SaleStatus.PENDING, "pending"), (SaleStatus.CONFIRMED, "confirmed")])
    deduct_stock = forms.BooleanField(
        required=False, initial=True, help_text="Reserve (pending) or deduct (confirmed) the products' stock."
    )
    category = forms.CharField(max_length=200, required=False)
    reason = forms.CharField(max_length=500, help_text="Why this sale is entered by hand; kept in its history.")


class ManualSaleLineForm(forms.Form):
    # Typed, not a drop-down: a choice list would load every product of every project, three times a page.
    product = forms.CharField(max_length=200, help_text="The product's UUID or its external id in the project.")
    variant = forms.UUIDField(required=False, help_text="UUID of one of the product's variants, if it has any.")
    quantity = forms.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    unit_price = forms.DecimalField(
        max_digits=20, decimal_places=4, min_value=Decimal(0), required=False, help_text="Empty: the product's price."
    )


ManualSaleLineFormSet = forms.formset_factory(ManualSaleLineForm, extra=3, min_num=1, validate_min=True)


class SaleLineInline(admin.TabularInline):
    model = SaleLine
    fields = ["position", "product", "variant", "product_name", "quantity", "unit_price", "discount", "line_total"]
    readonly_fields = fields
    ordering = ["position"]
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        # Each line shows its product and its variant ("Laptop / Red"): one join, not two queries a line.
        return super().get_queryset(request).select_related("product", "variant__product")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Sale)
class SaleAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "channel", "status", "total", "currency", "category", "user", "created_at"]
    list_filter = ["project", "status", "channel", ("created_at", admin.DateFieldListFilter)]
    # `extra` holds the company-specific PREFIX__field values of custobar uploads: searchable, as documented.
    search_fields = ["id", "external_id", "category", "extra"]
    list_select_related = ["project", "user"]
    show_full_result_count = False  # COUNT(*) of a large ledger on every page is wasted work.
    inlines = [SaleLineInline]
    fields = [
        "id", "project", "channel", "status", "currency", "subtotal", "discount", "shipping", "tax", "total",
        "category", "customer", "user", "api_key", "external_id", "original_state", "location", "sale_type",
        "stock_applied", "extra", "created_at", "confirmed_at", "cancelled_at", "timeline",
    ]  # fmt: skip
    readonly_fields = fields
    actions = ["confirm_sales", "cancel_sales"]

    @admin.display(description="Timeline")
    def timeline(self, sale):
        """The sale's history from its events: what happened, when, by whom, from which request."""
        events = events_of_object(object_id=sale.pk) if sale.pk else []
        if not events:
            return "-"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    event.created.strftime("%Y-%m-%d %H:%M:%S"), event.type,
                    f"{event.previous_status} → {event.data.get('status', '')}" if event.previous_status else
                    event.data.get("status", ""),
                    event.actor_display, event.request_id,
                )
                for event in events
            ),
        )  # fmt: skip
        return format_html(
            '<table class="sale-timeline"><thead><tr><th>When (UTC)</th><th>Event</th><th>Status</th><th>By</th>'
            "<th>Request</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    def has_change_permission(self, request, obj=None):
        return False  # Corrections are the Confirm / Cancel actions, which go through the services.

    def has_delete_permission(self, request, obj=None):
        return False  # The ledger keeps every sale; a wrong one is cancelled.

    def has_move_permission(self, request):
        """Confirming or cancelling moves stock: it takes the sale's change permission (granted in Users),
        though the admin never edits a sale's fields."""
        return request.user.has_perm("sales.change_sale")

    @admin.action(description="Confirm selected sales", permissions=["move"])
    def confirm_sales(self, request, queryset):
        self._move(request, queryset, sale_confirm, "Confirmed")

    @admin.action(description="Cancel selected sales", permissions=["move"])
    def cancel_sales(self, request, queryset):
        self._move(request, queryset, sale_cancel, "Cancelled")

    def _move(self, request, queryset, service, done: str):
        """Apply `service` to each sale on its own, reporting each outcome; a refusal spoils no other."""
        for sale in queryset.order_by("created_at"):
            try:
                sale = service(sale=sale, user=request.user, note=f"{done} in the admin by {request.user}")
            except ServiceError as error:
                # A refusal that names the sale already (a refused move) is not prefixed with its id again.
                named = error.message if str(sale.id) in error.message else f"Sale {sale.id}: {error.message}"
                self.message_user(request, named, messages.WARNING)
                continue
            self.log_change(request, sale, f"{done} through the admin")
            self.message_user(request, f"Sale {sale.id}: {done.lower()}.", messages.SUCCESS)

    def add_view(self, request, form_url="", extra_context=None):
        """A manual sale (channel `admin`), recorded through `sale_create` like any other."""
        if not self.has_add_permission(request):
            return redirect("admin:sales_sale_changelist")
        posted = request.method == "POST"
        form = ManualSaleForm(request.POST if posted else None)
        lines = ManualSaleLineFormSet(request.POST if posted else None, prefix="lines")
        if posted and form.is_valid() and lines.is_valid():
            sale = self._create_manual_sale(request, form, lines)
            if sale is not None:
                return redirect("admin:sales_sale_change", sale.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": "Manual sale",
            "form": form,
            "lines": lines,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/sales/manual_sale.html", context)

    def _create_manual_sale(self, request, form, lines):
        data = form.cleaned_data
        try:
            sale = sale_create(
                project=data["project"],
                channel=SaleChannel.ADMIN,
                status=data["status"],
                deduct_stock=data["deduct_stock"],
                category=data["category"],
                user=request.user,
                note=data["reason"],
                lines=[
                    LineInput(
                        product=line["product"],
                        variant=line.get("variant"),
                        quantity=line["quantity"],
                        unit_price=line.get("unit_price"),
                    )
                    for line in lines.cleaned_data
                    if line
                ],
            )
        except ServiceError as error:
            form_add_service_error(form, error)
            return None
        self.log_addition(request, sale, f"Manual sale: {data['reason']}")
        self.message_user(request, f"Sale {sale.id} recorded ({sale.status}).", messages.SUCCESS)
        return sale
