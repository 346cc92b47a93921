from django.apps import AppConfig
from django.contrib.auth import get_user_model
from django.db.backends.signals import connection_created
from django.db.models.signals import post_delete, post_save

from salesledger.db import clamp_out_of_range_times


class ApikeysConfig(AppConfig):
    name = "apikeys"
    verbose_name = "Projects and API keys"

    def ready(self):
        # The gate app is loaded first and by every process: each new database connection reads
        # out-of-range times without failing (see salesledger.db).
        connection_created.connect(clamp_out_of_range_times, dispatch_uid="clamp_out_of_range_times")
        # Any save or delete of a key, a project or a user (a service, the admin, a command): no process
        # authenticates with what it read of them before (apikeys/key_cache.py).
        from apikeys import key_cache
        from apikeys.models import APIKey, Project

        for model in (APIKey, Project, get_user_model()):
            for signal in (post_save, post_delete):
                signal.connect(
                    key_cache.changed_by_save, sender=model, dispatch_uid=f"key_cache_{model._meta.label_lower}"
                )
