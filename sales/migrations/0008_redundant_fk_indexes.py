# The foreign keys' own indexes that other indexes already cover: a sale's project begins the four
# indexes of Sale.Meta, a line's sale begins sale_line_position_unique (sale, position), so lookups by
# either (the rollups, the events' lines, cascades) use those. One index fewer to write per sale and per
# line (an upload's inserts: about 8 % fewer WAL records per sale, 17 % per line, bench/README.md).
# The indexes are dropped by name, not by AlterField: on SQLite that would rebuild the tables and lose
# their rollup triggers.

import django.db.models.deletion
from django.db import migrations, models

from salesledger.migration_operations import index_dropped

_INDEXES = [("sales_sale_project_id_2c02ddf8", "sales_sale", "project_id"),
            ("sales_saleline_sale_id_8f707bda", "sales_saleline", "sale_id")]  # fmt: skip


class Migration(migrations.Migration):
    dependencies = [
        ("apikeys", "0003_limits_idempotency_request_log"),
        ("sales", "0007_rollups_line_skip"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[index_dropped(*index) for index in _INDEXES],
            state_operations=[
                migrations.AlterField(
                    model_name="sale",
                    name="project",
                    field=models.ForeignKey(
                        db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="sales",
                        to="apikeys.project",
                    ),  # fmt: skip
                ),
                migrations.AlterField(
                    model_name="saleline",
                    name="sale",
                    field=models.ForeignKey(
                        db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="lines",
                        to="sales.sale",
                    ),  # fmt: skip
                ),
            ],
        ),
    ]
