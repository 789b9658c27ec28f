"""After a spec write commits, ask for a reconcile of the object (see CONTROLPLANE_RECONCILE_MODE)."""
from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction

from core.errors import InternalError, TargetError
from core.locks import LockBusy

from .reconcile import reconcile
from .tasks import reconcile_object

log = logging.getLogger(__name__)


def request_reconcile(obj) -> None:
    kind, pk = obj.kind, obj.pk
    mode = settings.CONTROLPLANE_RECONCILE_MODE
    if mode == "manual":
        return

    def send() -> None:
        if mode == "inline":
            try:
                reconcile(kind, pk)
            except (TargetError, InternalError, LockBusy) as exc:
                log.warning("reconcile of %s %s failed: %s (periodic pass retries)", kind, pk, exc)
            return
        try:
            reconcile_object.apply_async((kind, pk), retry=False)
        except Exception as exc:  # broker down: the periodic pass picks the change up
            log.warning("could not enqueue reconcile of %s %s: %s", kind, pk, exc)

    transaction.on_commit(send)
