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

from core.errors import SpecError
from targets.certificates import store_certificate_secret, summary
from targets.models import CertificateSecret

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
                created = store_certificate_secret(data["name"], data["certificate"], data["key"])
            except SpecError as error:
                form.add_spec_error(error)
            else:
                messages.success(request, f"Certificate secret {data['name']} {'stored' if created else 'replaced'}; "
                                          "databases naming it pick it up at their next reconcile.")
                return redirect("frontend:certificate-list")
        status = 400
        form.forget_key()
    secrets = [(secret, summary(secret)) for secret in CertificateSecret.objects.all()]
    response = render(request, "frontend/certificates/list.html",
                      {"section": "certificates", "secrets": secrets, "form": form}, status=status)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def certificate_delete(request: HttpRequest, name: str) -> HttpResponse:
    _staff(request)
    get_object_or_404(CertificateSecret, name=name).delete()
    messages.success(request, f"Certificate secret {name} deleted.")
    return redirect("frontend:certificate-list")
