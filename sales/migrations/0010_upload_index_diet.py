# Indexes an upload writes for nothing (issue 16): every sale and line pays an entry in each of its
# table's indexes. `sales_sale (location_id)` and `sales_saleline (variant_id)` are NULL for every sale
# but a POS one and every line without a variant: they become partial, so only the rows that have one are
# indexed (deleting a location or a variant, PROTECT, still finds them by index).
# (`sales_sale (created_at)` stays: the admin's list of every project's sales is ordered by it alone, and
# without it each page would sort the whole ledger.)
# Dropped by name, not by AlterField: on SQLite that would rebuild the tables and lose their rollup triggers.

import django.db.models.deletion
from django.db import migrations, models

from salesledger.migration_operations import index_dropped

_INDEXES = [("sales_sale_location_id_9d295deb", "sales_sale", "location_id"),
            ("sales_saleline_variant_id_0f735aa6", "sales_saleline", "variant_id")]  # fmt: skip


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0002_stock_available"),
        ("sales", "0009_product_month_sales"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[index_dropped(*index) for index in _INDEXES],
            state_operations=[
                migrations.AlterField(
                    model_name="sale",
                    name="location",
                    field=models.ForeignKey(
                        blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT,
                        related_name="sales", to="sales.location",
                    ),  # fmt: skip
                ),
                migrations.AlterField(
                    model_name="saleline",
                    name="variant",
                    field=models.ForeignKey(
                        blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT,
                        related_name="sale_lines", to="inventory.variant",
                    ),  # fmt: skip
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="sale",
            index=models.Index(
                condition=models.Q(("location__isnull", False)), fields=["location"], name="sales_sale_location"
            ),
        ),
        migrations.AddIndex(
            model_name="saleline",
            index=models.Index(
                condition=models.Q(("variant__isnull", False)), fields=["variant"], name="sales_saleline_variant"
            ),
        ),
    ]
