"""Run the database backend's own worker in this process until no task is due (the clock may be moved)."""

from django_tasks_db.management.commands.db_worker import Worker


def run_due_tasks() -> None:
    Worker(
        queue_names=["default"], interval=0, batch=True, backend_name="default", startup_delay=False,
        max_tasks=None, worker_id="in-test", excluded_queue_names=[],
    ).run()  # fmt: skip
