"""The database page's "Back up now", "Restore" and "Cut over" buttons (backups/services.py does the work and
the timeline entry)."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from backups import services

from ..kinds import DATABASE


@login_required
@require_POST
def backup_now(request: HttpRequest, pk: int) -> HttpResponse:
    database = DATABASE.get_managed(request.user, pk, "Only the owning team and staff may back this database up.")
    try:
        run = services.backup_now(database, actor=request.user)
    except services.BackupError as exc:
        messages.error(request, str(exc))
    else:
        if run.ok:
            messages.success(request, f"Backup {run.name} stored ({run.size} bytes) in {', '.join(run.locations)}.")
        else:
            messages.error(request, f"Backup {run.name} failed: {run.error}")
    return redirect("frontend:database-detail", pk=database.pk)


@login_required
@require_POST
def restore(request: HttpRequest, pk: int) -> HttpResponse:
    """Restore a backup (named, or the newest) into this database; replacing keys needs the confirm box."""
    database = DATABASE.get_managed(request.user, pk, "Only the owning team and staff may restore this database.")
    name = request.POST.get("backup", "").strip()[:40] or None
    confirm = request.POST.get("confirm") == "on"
    try:
        result = services.restore(database, backup=name, actor=request.user, confirm=confirm)
    except services.BackupError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Restored {result.source}: {result.keys} keys.")
    return redirect("frontend:database-detail", pk=database.pk)


@login_required
@require_POST
def cut_over(request: HttpRequest, pk: int) -> HttpResponse:
    """End spec.replicaSources: the source is fenced and every write it acknowledged lands here."""
    database = DATABASE.get_managed(request.user, pk, "Only the owning team and staff may cut this database over.")
    try:
        result = services.cut_over(database, actor=request.user, confirm=request.POST.get("confirm") == "on")
    except services.BackupError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Cut over from {result.source}: {result.keys} keys. Move writers here.")
    return redirect("frontend:database-detail", pk=database.pk)
