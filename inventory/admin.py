"""Admin for products and the stock ledger. Every write goes through `inventory.services`:
counters are read-only everywhere, stock changes through the "Adjust stock" form."""

from functools import partial

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from inventory import selectors
from inventory.models import LOW_STOCK, MAX_UNITS, Product, Stock, StockMovement, Variant
from inventory.services.catalogue import (
    PRODUCT_FIELDS,
    VARIANT_FIELDS,
    DuplicateProduct,
    product_check_stock_placement,
    product_check_unique,
    product_create,
    product_delete,
    product_update,
    variant_check_allowed,
    variant_create,
    variant_delete,
    variant_update,
)
from inventory.services.stock import InsufficientStock, stock_adjust
from salesledger.errors import ServiceError, form_add_service_error

HISTORY_ROWS = 20


class VariantForm(forms.ModelForm):
    stock_on_hand = forms.IntegerField(
        min_value=0,
        max_value=MAX_UNITS,
        initial=0,
        required=False,
        label="Initial stock",
        help_text="New variants only.",
    )

    class Meta:
        model = Variant
        fields = ["name", "sku", "price"]
        widgets = {
            "name": forms.TextInput(attrs={"style": "width: 14em"}),
            "sku": forms.TextInput(attrs={"style": "width: 10em"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance._state.adding:
            self.fields["stock_on_hand"].disabled = True
            self.fields["stock_on_hand"].widget = forms.NumberInput(attrs={"placeholder": "Adjust stock", "size": 10})
            self.initial["stock_on_hand"] = None


class VariantFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        kept = [form for form in self.forms if not self._should_delete_form(form) and form.cleaned_data]
        skus = [form.cleaned_data.get("sku") for form in kept if form.cleaned_data.get("sku")]
        if len(skus) != len(set(skus)):
            raise ValidationError("Each variant of a product needs its own sku.")
        adding = [form for form in kept if form.instance._state.adding and form.has_changed()]
        if not adding:
            return
        product = self.instance
        if product._state.adding:
            # The product form's initial stock is in the same POST: stock lives on variants or on the product.
            try:
                own = int(self.data.get("stock_on_hand") or 0)
            except ValueError:
                own = 0
            check = partial(product_check_stock_placement, stock_on_hand=own, has_variants=True)
        else:
            check = partial(variant_check_allowed, product=product, own_stock=selectors.stock_of(product=product))
        try:
            check()
        except ServiceError as error:
            raise ValidationError(str(error)) from error


class VariantInline(admin.TabularInline):
    model = Variant
    form = VariantForm
    formset = VariantFormSet
    extra = 0
    fields = ["name", "sku", "price", "on_hand", "reserved", "available", "stock_on_hand"]
    readonly_fields = ["on_hand", "reserved", "available"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("stock", "product")

    @admin.display(description="On hand")
    def on_hand(self, variant):
        return _stock_value(variant, "on_hand")

    @admin.display(description="Reserved")
    def reserved(self, variant):
        return _stock_value(variant, "reserved")

    @admin.display(description="Available")
    def available(self, variant):
        return _stock_value(variant, "available")


def _stock_value(variant, field):
    if variant._state.adding:
        return "-"
    stock = getattr(variant, "stock", None)
    return getattr(stock, field) if stock is not None else 0


class ProductForm(forms.ModelForm):
    image_url = forms.URLField(max_length=1000, required=False, assume_scheme="https", label="Image URL")
    stock_on_hand = forms.IntegerField(
        min_value=0,
        max_value=MAX_UNITS,
        initial=0,
        required=False,
        label="Initial stock",
        help_text="Recorded as an initial movement.",
    )

    class Meta:
        model = Product
        fields = ["project", *PRODUCT_FIELDS]

    def clean(self):
        data = super().clean()
        project = data.get("project") or (self.instance.project if not self.instance._state.adding else None)
        if project is not None:
            wanted = {field: data.get(field) for field in ("sku", "ean", "external_id") if field in self.fields}
            try:
                product_check_unique(project=project, fields=wanted, exclude=self.instance.pk)
            except DuplicateProduct as error:
                form_add_service_error(self, error)
        return data


class StockLevelFilter(admin.SimpleListFilter):
    title = "stock"
    parameter_name = "stock"

    def lookups(self, request, model_admin):
        return [("out", "Out of stock"), ("low", f"Low (at most {LOW_STOCK} available)")]

    def queryset(self, request, queryset):
        if self.value() == "out":
            return queryset.filter(available__lte=0)
        if self.value() == "low":
            return queryset.filter(available__lte=LOW_STOCK)
        return queryset


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    form = ProductForm
    inlines = [VariantInline]
    list_display = ["name", "project", "sku", "price", "active", "on_hand", "reserved", "available"]
    list_filter = ["project", "active", StockLevelFilter]
    search_fields = ["name", "sku", "ean", "external_id"]
    list_select_related = ["project"]
    readonly_fields = ["id", "on_hand", "reserved", "available", "created_at", "updated_at", "movement_history"]

    def get_queryset(self, request):
        return selectors.product_list()

    def get_fields(self, request, obj=None):
        fields = ["project", *PRODUCT_FIELDS]
        if obj is None:
            return [*fields, "stock_on_hand"]
        return ["id", *fields, "on_hand", "reserved", "available", "created_at", "updated_at", "movement_history"]

    def get_readonly_fields(self, request, obj=None):
        # A product's project never changes: its movements and sales belong to that tenant.
        return [*self.readonly_fields, "project"] if obj is not None else self.readonly_fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            kwargs["fields"] = [f for f in self.get_fields(request, obj) if f in PRODUCT_FIELDS]
        return super().get_form(request, obj, change, **kwargs)

    @admin.display(description="On hand", ordering="on_hand")
    def on_hand(self, product):
        return getattr(product, "on_hand", None)

    @admin.display(description="Reserved", ordering="reserved")
    def reserved(self, product):
        return getattr(product, "reserved", None)

    @admin.display(description="Available", ordering="available")
    def available(self, product):
        return getattr(product, "available", None)

    @admin.display(description="Stock movements")
    def movement_history(self, product):
        if product.pk is None:
            return "-"
        movements = list(
            product.movements.select_related("variant", "actor_user", "actor_key").order_by("-created_at", "-id")[
                :HISTORY_ROWS
            ]
        )
        if not movements:
            return "None yet."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    m.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                    m.variant.name if m.variant else "",
                    m.get_reason_display(),
                    f"{m.delta_on_hand:+d}",
                    f"{m.delta_reserved:+d}",
                    m.sale_id or "",
                    _actor(m),
                    m.note,
                )
                for m in movements
            ),
        )
        everything = reverse("admin:inventory_stockmovement_changelist") + f"?product__id__exact={product.pk}"
        return format_html(
            "<table><thead><tr><th>When</th><th>Variant</th><th>Reason</th><th>On hand</th><th>Reserved</th>"
            "<th>Sale</th><th>By</th><th>Note</th></tr></thead><tbody>{}</tbody></table>"
            '<p><a href="{}">All movements of this product</a></p>',
            rows,
            everything,
        )

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            product_update(
                product=obj, actor_user=request.user, **{f: data[f] for f in form.changed_data if f in PRODUCT_FIELDS}
            )
            return
        created = product_create(
            id=obj.id,
            project=data["project"],
            stock_on_hand=data.get("stock_on_hand") or 0,
            actor_user=request.user,
            **{f: data[f] for f in PRODUCT_FIELDS},
        )
        # The inline formset blanks an unsaved parent's generated key: take the created one.
        obj.id, obj.created_at, obj.updated_at = created.id, created.created_at, created.updated_at
        obj._state.adding, obj._state.db = False, created._state.db

    def get_deleted_objects(self, objs, request):
        # product_delete decides: an unsold product goes with its ledger; one that served a sale
        # (sale lines protect it) is deactivated. Neither needs rights on the ledger itself.
        deleted, counts, perms_needed, _protected = super().get_deleted_objects(objs, request)
        perms_needed.discard(StockMovement._meta.verbose_name)
        perms_needed.discard(Stock._meta.verbose_name)
        return deleted, counts, perms_needed, []

    def delete_model(self, request, obj):
        if product_delete(product=obj) == "deactivated":
            self.message_user(request, f"{obj} served sales: deactivated instead of deleted.", messages.WARNING)

    def delete_queryset(self, request, queryset):
        kept = [product.name for product in queryset if product_delete(product=product) == "deactivated"]
        if kept:
            self.message_user(
                request, f"Served sales, deactivated instead of deleted: {', '.join(kept)}.", messages.WARNING
            )

    def save_formset(self, request, form, formset, change):
        if formset.model is not Variant:
            return super().save_formset(request, form, formset, change)
        product = form.instance
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for variant_form in formset.deleted_forms:
            if not variant_form.instance._state.adding:
                variant_delete(variant=variant_form.instance)
                formset.deleted_objects.append(variant_form.instance)
        for variant_form in formset.forms:
            if variant_form in formset.deleted_forms or not variant_form.has_changed():
                continue
            data, variant = variant_form.cleaned_data, variant_form.instance
            if variant._state.adding:
                variant_create(
                    product=product,
                    id=variant.id,
                    name=data["name"],
                    sku=data.get("sku"),
                    price=data.get("price"),
                    stock_on_hand=data.get("stock_on_hand") or 0,
                    actor_user=request.user,
                )
                formset.new_objects.append(variant)
            else:
                changed = [f for f in variant_form.changed_data if f in VARIANT_FIELDS]
                variant_update(variant=variant, **{f: data[f] for f in changed})
                formset.changed_objects.append((variant, changed))

    def get_urls(self):
        view = self.admin_site.admin_view(self.adjust_stock_view)
        return [
            path("<path:object_id>/adjust-stock/", view, name="inventory_product_adjust_stock"),
            *super().get_urls(),
        ]

    def adjust_stock_view(self, request, object_id):
        product = self.get_object(request, object_id)
        if product is None:
            raise Http404("No such product.")
        if not self.has_change_permission(request, product):
            raise PermissionDenied
        form = AdjustStockForm(request.POST or None, product=product)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                movement = stock_adjust(
                    product=product,
                    variant=data.get("variant"),
                    delta=data["delta"],
                    reason=data["reason"],
                    actor_user=request.user,
                )
            except InsufficientStock as error:
                form.add_error("delta", str(error))
            except ServiceError as error:
                form_add_service_error(form, error)
            else:
                target = f"{product.name} / {movement.variant.name}" if movement.variant else product.name
                self.log_change(
                    request, product, f"Adjusted stock of {target} by {movement.delta_on_hand:+d}: {movement.note}"
                )
                self.message_user(
                    request, f"Stock of {target} adjusted by {movement.delta_on_hand:+d}.", messages.SUCCESS
                )
                return HttpResponseRedirect(reverse("admin:inventory_product_change", args=[product.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Adjust stock: {product.name}",
            "form": form,
            "product": product,
            "stocks": Stock.objects.filter(product=product).select_related("variant").order_by("variant__name"),
            "opts": self.model._meta,
            "original": product,
        }
        return TemplateResponse(request, "admin/inventory/product/adjust_stock.html", context)


class AdjustStockForm(forms.Form):
    variant = forms.ModelChoiceField(queryset=Variant.objects.none(), required=False)
    delta = forms.IntegerField(help_text="Units to add (positive) or remove (negative).")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="Why: recorded on the movement.")

    def __init__(self, *args, product, **kwargs):
        super().__init__(*args, **kwargs)
        self.product = product
        variants = product.variants.order_by("name")
        if variants.exists():
            self.fields["variant"].queryset = variants
            self.fields["variant"].label_from_instance = lambda variant: variant.name
            self.fields["variant"].required = True
        else:
            del self.fields["variant"]

    def clean_delta(self):
        delta = self.cleaned_data["delta"]
        if delta == 0:
            raise ValidationError("Must not be 0.")
        return delta

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError("This field is required.")
        return reason


def _actor(movement) -> str:
    if movement.actor_user is not None:
        return movement.actor_user.get_username()
    if movement.actor_key is not None:
        return f"key {movement.actor_key.display_prefix}"
    return ""


@admin.register(StockMovement)
class StockMovementAdmin(admin.ModelAdmin):
    """The ledger, read-only: movements are never edited or deleted."""

    list_display = ["created_at", "product", "variant_name", "reason", "delta_on_hand", "delta_reserved", "sale_id",
                    "actor", "note"]  # fmt: skip
    list_filter = ["reason", "product__project", "created_at"]
    search_fields = ["product__name", "product__sku", "variant__name", "note"]
    list_select_related = ["product", "variant", "actor_user", "actor_key"]
    date_hierarchy = "created_at"
    actions = None

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Variant", ordering="variant__name")
    def variant_name(self, movement):
        return movement.variant.name if movement.variant else ""

    @admin.display(description="By")
    def actor(self, movement):
        return _actor(movement)
