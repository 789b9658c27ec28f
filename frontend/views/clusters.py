"""Cluster pages: the list, one cluster (nodes, capacity, its databases, timeline), create and edit."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.visibility import visible_databases
from clusters.capacity import used_bytes
from clusters.services import create_cluster, update_cluster
from core.drivers import driver_for
from databases.models import Database
from targets.models import Target

from ..display import capacity
from ..forms.cluster import ClusterForm
from ..forms.spec import spec_yaml
from ..kinds import CLUSTER
from .common import paginate, small_int, timeline, view_of, with_views
from .specforms import SpecFormView


@login_required
def cluster_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    counted = Q() if user.is_staff else Q(databases__team__members=user)
    clusters = CLUSTER.queryset(user).annotate(database_count=Count("databases", filter=counted, distinct=True))
    page = paginate(request, clusters.order_by("name"))
    return render(request, "frontend/clusters/list.html", {
        "section": "clusters", "page": page, "rows": with_views(page.object_list),
        "may_create": user.is_staff,
    })


@login_required
def cluster_detail(request: HttpRequest, pk: int) -> HttpResponse:
    cluster = CLUSTER.get(request.user, pk)
    spec = cluster.typed_spec
    databases = visible_databases(request.user, Database.objects.filter(cluster=cluster).select_related(
        "cluster", "team"))
    page = paginate(request, databases.order_by("name"))
    return render(request, "frontend/clusters/detail.html", {
        "section": "clusters", "cluster": cluster, "view": view_of(cluster), "spec": spec,
        "capacity": capacity(spec.capacity_bytes, used_bytes(cluster)),
        "page": page, "rows": with_views(page.object_list),
        "events": timeline(cluster),
        "yaml": spec_yaml(CLUSTER.registered, cluster.name, cluster.spec, cluster.namespace),
        "may_manage": CLUSTER.may_manage(request.user, cluster),
        "may_create_database": not cluster.deletion_requested_at,
    })


class ClusterFormView(SpecFormView):
    template_name = "frontend/clusters/form.html"

    def allowed(self) -> bool:
        return self.request.user.is_staff

    def versions(self) -> list[str]:
        return driver_for(Target.default()).redis_versions()

    def make_form(self, data=None) -> ClusterForm:
        return ClusterForm(data, versions=self.versions())

    def save(self, form: ClusterForm, spec: dict):
        data = form.cleaned_data
        return create_cluster(name=data["name"], spec=spec, namespace=data["namespace"] or None,
                              target=data["target"], actor=self.request.user)

    def yaml_for(self, form: ClusterForm, spec: dict) -> str:
        data = getattr(form, "cleaned_data", None) or {}
        name = data.get("name") or form.data.get("name", "")
        return spec_yaml(CLUSTER.registered, name, spec, data.get("namespace") or None)

    def extra_context(self) -> dict:
        return {"section": "clusters"}


class ClusterEditView(ClusterFormView):
    editing = True

    def setup_object(self, pk: int) -> None:
        self.cluster = CLUSTER.get(self.request.user, pk)

    def versions(self) -> list[str]:
        return []

    def make_form(self, data=None) -> ClusterForm:
        return ClusterForm(data, editing=True, initial=ClusterForm.initial_from_spec(self.cluster.spec))

    def base_spec(self) -> dict:
        return self.cluster.spec

    def save(self, form: ClusterForm, spec: dict):
        return update_cluster(self.cluster, spec=spec, actor=self.request.user,
                              expected_generation=expected_generation(self.request))

    def yaml_for(self, form: ClusterForm, spec: dict) -> str:
        return spec_yaml(CLUSTER.registered, self.cluster.name, spec, self.cluster.namespace)

    def extra_context(self) -> dict:
        return {"section": "clusters", "object": self.cluster}


def expected_generation(request: HttpRequest) -> int | None:
    """The generation the edit form was rendered from, so a concurrent change is not overwritten."""
    return small_int(request.POST.get("generation", ""))
