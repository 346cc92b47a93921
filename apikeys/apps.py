from django.apps import AppConfig
from django.db.backends.signals import connection_created

from salesledger.db import clamp_out_of_range_times


class ApikeysConfig(AppConfig):
    name = "apikeys"
    verbose_name = "Projects and API keys"

    def ready(self):
        # The gate app is loaded first and by every process: each new database connection reads
        # out-of-range times without failing (see salesledger.db).
        connection_created.connect(clamp_out_of_range_times, dispatch_uid="clamp_out_of_range_times")
