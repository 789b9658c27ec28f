"""The Certificates page (staff): the certificate secrets of the local target (client CAs for mutual TLS, server
certificates with their key for certificates.proxyCertificateSecretName): name, subject, expiry, whether a key is
held (never the key); store or replace one, delete one. The same service as the API (targets/certificates.py)."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from clusters.models import Cluster
from core.errors import SpecError
from databases.models import Database
from targets.certificates import certificate_events, delete_certificate_secret, store_certificate_secret, summary
from targets.models import CertificateSecret, Target
from timeline.record import actor_name

from ..forms.certificate import CertificateSecretForm


def _staff(request: HttpRequest) -> None:
    if not request.user.is_staff:
        raise PermissionDenied("Only staff manage certificate secrets.")


@login_required
@require_http_methods(["GET", "POST"])
def certificate_list(request: HttpRequest) -> HttpResponse:
    _staff(request)
    form = CertificateSecretForm()
    status = 200
    if request.method == "POST":
        form = CertificateSecretForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                created = store_certificate_secret(data["name"], data["certificate"], data["key"],
                                                   actor=actor_name(request.user))
            except SpecError as error:
                form.add_spec_error(error)
            else:
                messages.success(request, f"Certificate secret {data['name']} {'stored' if created else 'replaced'}; "
                                          "databases naming it pick it up at their next reconcile.")
                return redirect("frontend:certificate-list")
        status = 400
        form.forget_key()
    users = _users()
    secrets = [(secret, summary(secret), users.get(secret.name, [])) for secret in CertificateSecret.objects.all()]
    response = render(request, "frontend/certificates/list.html",
                      {"section": "certificates", "secrets": secrets, "form": form,
                       "events": certificate_events()}, status=status)
    response["Cache-Control"] = "no-store"
    return response


def _users() -> dict[str, list[str]]:
    """Who names each secret: clusters (their databases' server certificate), databases (client CAs)."""
    users: dict[str, list[str]] = {}
    for cluster in Cluster.objects.filter(target__kind=Target.LOCAL).only("name", "spec"):
        name = cluster.typed_spec.proxy_certificate_secret
        if name:
            users.setdefault(name, []).append(f"cluster {cluster.name} (server certificate)")
    for database in Database.objects.filter(cluster__target__kind=Target.LOCAL).only("name", "spec"):
        for name in database.typed_spec.client_certificates:
            users.setdefault(name, []).append(f"database {database.name} (client CA)")
    return users


@login_required
@require_POST
def certificate_delete(request: HttpRequest, name: str) -> HttpResponse:
    _staff(request)
    get_object_or_404(CertificateSecret, name=name)
    delete_certificate_secret(name, actor=actor_name(request.user))
    messages.success(request, f"Certificate secret {name} deleted.")
    return redirect("frontend:certificate-list")
