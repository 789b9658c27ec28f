"""The Celery app: workers run reconcile tasks, beat enqueues the periodic pass."""
import logging
import os

from celery import Celery
from celery.signals import after_setup_logger

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "controlplane.settings")

app = Celery("controlplane")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@after_setup_logger.connect
def quiet_per_task_lines(logger, **kwargs) -> None:
    """'Task received/succeeded' every two seconds drowns what matters; the reconciler logs state changes."""
    for name in ("celery.app.trace", "celery.worker.strategy"):
        logging.getLogger(name).setLevel(logging.WARNING)
