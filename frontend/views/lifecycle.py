"""Upgrade and delete, for clusters and databases alike: each a confirm step, then one service call."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from core.errors import SpecError, StaleGeneration
from core.validation import version_key

from ..kinds import KINDS, Kind
from .clusters import expected_generation
from .common import view_of


def _managed_object(request: HttpRequest, kind: Kind, pk: int):
    return kind.get_managed(request.user, pk, f"You may not change this {kind.label}.")


@login_required
def upgrade(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """Step 1 picks a version (GET), step 2 confirms it (POST), step 3 applies it (POST confirm=yes)."""
    kind_ = KINDS[kind]
    obj = _managed_object(request, kind_, pk)
    view = view_of(obj)
    current = view["version"]
    versions = sorted(kind_.versions(obj), key=version_key)
    context = {"section": f"{kind}s", "kind": kind_, "object": obj, "view": view, "current": current,
               "versions": versions, "newer": [v for v in versions if version_key(v) > version_key(current)]
               if current in versions else versions}
    if request.method != "POST":
        return render(request, "frontend/actions/upgrade.html", context)
    version = request.POST.get("version", "")
    context["chosen"] = version
    if version not in versions:
        context["error"] = "Choose one of the versions listed." if version else "Choose a version."
        return render(request, "frontend/actions/upgrade.html", context, status=400)
    if request.POST.get("confirm") != "yes":
        return render(request, "frontend/actions/upgrade_confirm.html", context)
    try:
        result = kind_.upgrade(obj, version=version, actor=request.user,
                               expected_generation=expected_generation(request))
    except SpecError as error:
        context["error"] = " ".join(message for messages_ in error.errors.values() for message in messages_)
        return render(request, "frontend/actions/upgrade.html", context, status=400)
    except StaleGeneration as error:
        context["error"] = str(error)
        return render(request, "frontend/actions/upgrade.html", context, status=409)
    if result.changed:
        messages.success(request, f"Upgrading {kind_.label} {obj.name} to Redis {version}; progress shows below.")
    else:
        messages.info(request, f"{obj.name} already runs Redis {version}; nothing changed.")
    return redirect(kind_.detail_url_name, pk=obj.pk)


@login_required
def delete(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """A confirm page that names what goes away and whether data is kept, then the service call."""
    kind_ = KINDS[kind]
    obj = _managed_object(request, kind_, pk)
    context = {"section": f"{kind}s", "kind": kind_, "object": obj, "view": view_of(obj),
               "is_kubernetes": obj.target.kind == obj.target.KUBERNETES}
    if kind == "cluster":
        context["databases"] = list(obj.databases.values_list("name", flat=True)[:50])
    else:
        context["secret_name"] = obj.typed_spec.secret_name
    if request.method != "POST":
        return render(request, "frontend/actions/delete.html", context)
    if request.POST.get("confirm_name", "").strip() != obj.name:
        context["error"] = f"Type the name “{obj.name}” to confirm."
        return render(request, "frontend/actions/delete.html", context, status=400)
    delete_data = request.POST.get("delete_data") == "on"
    try:
        kind_.delete(obj, actor=request.user, delete_data=delete_data)
    except SpecError as error:
        context["error"] = " ".join(message for messages_ in error.errors.values() for message in messages_)
        return render(request, "frontend/actions/delete.html", context, status=400)
    kept = "its data is removed too" if delete_data else "its data is kept"
    messages.success(request, f"Deleting {kind_.label} {obj.name}; {kept}.")
    return redirect(kind_.detail_url_name, pk=obj.pk)
