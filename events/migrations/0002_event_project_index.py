# The event's project index was covered by event_project_created_idx (project, created, id), which begins
# with it: one index fewer to write per event (an upload writes an event per sale; issue 16). Dropped by
# name, as sales' 0008 does.

import django.db.models.deletion
from django.db import migrations, models

from salesledger.migration_operations import index_dropped


class Migration(migrations.Migration):
    dependencies = [
        ("apikeys", "0003_limits_idempotency_request_log"),
        ("events", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[index_dropped("events_event_project_id_b9c378d4", "events_event", "project_id")],
            state_operations=[
                migrations.AlterField(
                    model_name="event",
                    name="project",
                    field=models.ForeignKey(
                        db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="+",
                        to="apikeys.project",
                    ),  # fmt: skip
                )
            ],
        )
    ]
