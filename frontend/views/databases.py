"""Database pages: the list, one database (settings, how to connect, timeline), create, edit, credentials."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST
from rest_framework.exceptions import Throttled

from accounts.ownership import owner_team_for
from accounts.throttling import CredentialsThrottle
from clusters.models import Cluster
from core.drivers import driver_for
from core.errors import TargetError
from databases.services import create_database, update_database
from databases.services import reveal_credentials as reveal
from metrics.charts import firing_alerts
from targets.models import Target

from ..forms.database import DatabaseForm
from ..forms.spec import spec_yaml
from ..kinds import DATABASE
from .clusters import expected_generation
from .common import paginate, small_int, timeline, view_of, with_views
from .specforms import SpecFormView


@login_required
def database_list(request: HttpRequest) -> HttpResponse:
    databases = DATABASE.queryset(request.user).order_by("cluster__name", "name")
    page = paginate(request, databases)
    return render(request, "frontend/databases/list.html", {
        "section": "databases", "page": page, "rows": with_views(page.object_list),
    })


@login_required
def database_detail(request: HttpRequest, pk: int) -> HttpResponse:
    database = DATABASE.get(request.user, pk)
    return render(request, "frontend/databases/detail.html", detail_context(request, database))


def detail_context(request: HttpRequest, database, **extra) -> dict:
    try:
        connection = driver_for(database.target).connection_info(database)
    except TargetError as error:
        connection, connection_error = None, str(error)
    else:
        connection_error = ""
    return {
        "section": "databases", "database": database, "view": view_of(database),
        "spec": database.typed_spec,
        "connection": connection, "connection_error": connection_error,
        "is_kubernetes": database.target.kind == database.target.KUBERNETES,
        "events": timeline(database),
        "yaml": spec_yaml(DATABASE.registered, database.name, database.spec, database.namespace),
        "may_manage": DATABASE.may_manage(request.user, database),
        "alerts": firing_alerts(database),
        "backup": database.spec.get("backup"), "backup_info": (database.status or {}).get("backupInfo") or {},
        "replica_source": (database.spec.get("replicaSources") or [None])[0],
        "replica_status": (database.status or {}).get("replicaSourceStatus") or {},
        **extra,
    }


@login_required
@require_POST
def reveal_credentials(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the password and a ready redis-cli line; the service writes who asked to the timeline."""
    database = DATABASE.get_managed(request.user, pk, "Only the owning team and staff may see the credentials.")
    wants_json = "application/json" in request.headers.get("Accept", "")
    try:
        CredentialsThrottle().check(request)
    except Throttled as exc:
        if wants_json:
            response = JsonResponse({"detail": str(exc.detail)}, status=429)
        else:
            messages.error(request, str(exc.detail))
            response = render(request, "frontend/databases/detail.html", detail_context(request, database), status=429)
        response["Retry-After"] = str(exc.wait)
        return response
    credentials = reveal(database, actor=request.user)
    if wants_json:
        response = JsonResponse({
            "host": credentials.host, "port": credentials.port, "service_names": credentials.service_names,
            "password": credentials.password, "redis_cli": credentials.redis_cli,
            "ca_certificate": credentials.ca_certificate,
        })
    else:
        response = render(request, "frontend/databases/detail.html",
                          detail_context(request, database, credentials=credentials))
    response["Cache-Control"] = "no-store"
    return response


class DatabaseFormView(SpecFormView):
    template_name = "frontend/databases/form.html"

    def allowed(self) -> bool:
        return True  # anyone signed in may create a database for a team they belong to

    def make_form(self, data=None) -> DatabaseForm:
        initial = {}
        cluster_pk = small_int(self.request.GET.get("cluster", ""))
        if cluster_pk is not None:
            initial["cluster"] = cluster_pk
        form = DatabaseForm(data, user=self.request.user, initial=initial)
        targets = Target.objects.filter(clusters__deletion_requested_at__isnull=True).distinct()
        form.versions = sorted({version for target in targets for version in driver_for(target).redis_versions()})
        return form

    def save(self, form: DatabaseForm, spec: dict):
        data = form.cleaned_data
        team = owner_team_for(self.request.user, data["team"].name if data.get("team") else None)
        return create_database(cluster=data["cluster"], name=data["name"], spec=spec, team=team,
                               actor=self.request.user)

    def yaml_for(self, form: DatabaseForm, spec: dict) -> str:
        data = getattr(form, "cleaned_data", None) or {}
        cluster = data.get("cluster")
        name = data.get("name") or form.data.get("name", "")
        return spec_yaml(DATABASE.registered, name, spec, cluster.namespace if isinstance(cluster, Cluster) else None)

    def extra_context(self) -> dict:
        return {"section": "databases"}


class DatabaseEditView(DatabaseFormView):
    editing = True

    def setup_object(self, pk: int) -> None:
        self.database = DATABASE.get(self.request.user, pk)

    def allowed(self) -> bool:
        return DATABASE.may_manage(self.request.user, self.database)

    def make_form(self, data=None) -> DatabaseForm:
        return DatabaseForm(data, user=self.request.user, editing=True,
                            initial=DatabaseForm.initial_from_spec(self.database.spec))

    def base_spec(self) -> dict:
        return self.database.spec

    def save(self, form: DatabaseForm, spec: dict):
        return update_database(self.database, spec=spec, actor=self.request.user,
                               expected_generation=expected_generation(self.request))

    def yaml_for(self, form: DatabaseForm, spec: dict) -> str:
        return spec_yaml(DATABASE.registered, self.database.name, spec, self.database.namespace)

    def extra_context(self) -> dict:
        return {"section": "databases", "object": self.database}

