# The customer's project index was covered by customer_external_id_unique (project, external_id) and
# the three indexes of Customer.Meta, which all begin with it: one index fewer to write per customer (an
# upload creates its new customers in one statement; issue 16). Dropped by name, as sales' 0008 does.

import django.db.models.deletion
from django.db import migrations, models

from salesledger.migration_operations import index_dropped


class Migration(migrations.Migration):
    dependencies = [
        ("apikeys", "0003_limits_idempotency_request_log"),
        ("tracking", "0005_sale_project_created_amount"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[index_dropped("tracking_customer_project_id_7a992833", "tracking_customer", "project_id")],
            state_operations=[
                migrations.AlterField(
                    model_name="customer",
                    name="project",
                    field=models.ForeignKey(
                        db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="customers",
                        to="apikeys.project",
                    ),  # fmt: skip
                )
            ],
        )
    ]
