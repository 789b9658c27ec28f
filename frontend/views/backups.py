"""The database page's "Back up now", "Restore" and "Cut over" buttons (backups/services.py does the work and
the timeline entry)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from backups import services

from ..kinds import DATABASE


def _answer(request: HttpRequest, database, action: Callable[[], Any],
            message: Callable[[Any], tuple[bool, str]]) -> HttpResponse:
    """Run one backups service call; its refusal, or `message(result)` -> (ok, text), as the page's message."""
    try:
        result = action()
    except services.BackupError as exc:
        ok, text = False, str(exc)
    else:
        ok, text = message(result)
    (messages.success if ok else messages.error)(request, text)
    return redirect("frontend:database-detail", pk=database.pk)


@login_required
@require_POST
def backup_now(request: HttpRequest, pk: int) -> HttpResponse:
    database = DATABASE.get_managed(request.user, pk, "Only the owning team and staff may back this database up.")
    return _answer(request, database, lambda: services.backup_now(database, actor=request.user), lambda run: (
        run.ok, f"Backup {run.name} stored ({run.size} bytes) in {', '.join(run.locations)}." if run.ok
        else f"Backup {run.name} failed: {run.error}"))


@login_required
@require_POST
def restore(request: HttpRequest, pk: int) -> HttpResponse:
    """Restore a backup (named, or the newest) into this database; replacing keys needs the confirm box."""
    database = DATABASE.get_managed(request.user, pk, "Only the owning team and staff may restore this database.")
    name = request.POST.get("backup", "").strip()[:40] or None
    confirm = request.POST.get("confirm") == "on"
    return _answer(request, database,
                   lambda: services.restore(database, backup=name, actor=request.user, confirm=confirm),
                   lambda result: (True, f"Restored {result.source}: {result.keys} keys."))


@login_required
@require_POST
def cut_over(request: HttpRequest, pk: int) -> HttpResponse:
    """End spec.replicaSources: the source is fenced and every write it acknowledged lands here."""
    database = DATABASE.get_managed(request.user, pk, "Only the owning team and staff may cut this database over.")
    confirm = request.POST.get("confirm") == "on"
    return _answer(request, database, lambda: services.cut_over(database, actor=request.user, confirm=confirm),
                   lambda result: (True, f"Cut over from {result.source}: {result.keys} keys. Move writers here."))
