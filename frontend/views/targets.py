"""The Targets page: where clusters can run, each one's version, last check and missing permissions; staff add."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from core.errors import SpecError
from targets.connect import Connection, add_target
from targets.models import Target

from ..forms.target import TargetForm


@login_required
@require_http_methods(["GET", "POST"])
def target_list(request: HttpRequest) -> HttpResponse:
    form = TargetForm()
    status = 200
    if request.method == "POST":
        if not request.user.is_staff:
            raise PermissionDenied("Only staff may add targets.")
        form = TargetForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = add_target(name=data["name"], connection=Connection(
                    data["kubeconfig"], data["context"], data["in_cluster"]))
            except SpecError as error:
                form.add_spec_error(error)
            else:
                messages.success(request, f"Target {data['name']} added: server {result.obj.server_version}.")
                for warning in result.warnings:
                    messages.warning(request, warning)
                return redirect("frontend:target-list")
        status = 400
        form.forget_kubeconfig()
    Target.default()
    targets = Target.objects.annotate(cluster_count=Count("clusters")).order_by("name")
    return render(request, "frontend/targets/list.html", {
        "section": "targets", "targets": targets, "form": form, "may_create": request.user.is_staff,
    }, status=status)
