"""The Users page (staff): data-plane users, roles, role bindings and ACLs; reveal or rotate a user's password.
Every write goes through access/services.py and is an event in the object's timeline."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from rest_framework.exceptions import Throttled

from access import services
from access.models import ACL, BINDING, KIND_WORDS, ROLE, USER, AccessObject
from accounts.throttling import CredentialsThrottle
from core.errors import SpecError
from timeline.models import Event

from ..forms.access import AclForm, BindingForm, RoleForm, UserForm

FORMS = {ACL: AclForm, ROLE: RoleForm, USER: UserForm, BINDING: BindingForm}
PREFIXES = KIND_WORDS


def _staff(request: HttpRequest) -> None:
    if not request.user.is_staff:
        raise PermissionDenied("Only staff manage data-plane users.")


def _context(forms: dict, revealed: dict | None = None) -> dict:
    objects = list(AccessObject.objects.all())
    events = Event.objects.filter(object_kind__in=list(KIND_WORDS.values()))[:30]
    return {"section": "users", "forms": forms, "revealed": revealed, "events": events,
            **{f"{word}s": [o for o in objects if o.api_kind == kind] for kind, word in KIND_WORDS.items()}}


def _blank_forms() -> dict:
    return {kind: form(prefix=PREFIXES[kind]) for kind, form in FORMS.items()}


@login_required
@require_http_methods(["GET", "POST"])
def users(request: HttpRequest) -> HttpResponse:
    _staff(request)
    forms = _blank_forms()
    if request.method == "GET":
        return render(request, "frontend/users/list.html", _context(forms))
    kind = request.POST.get("kind")
    if kind not in FORMS:
        raise Http404
    form = FORMS[kind](request.POST, prefix=PREFIXES[kind])
    forms[kind] = form
    if form.is_valid():
        try:
            result = services.apply_object(kind, name=form.cleaned_data["name"],
                                           namespace=form.cleaned_data["namespace"], spec=form.spec(),
                                           actor=request.user)
        except SpecError as error:
            form.add_spec_error(error)
        else:
            messages.success(request, f"{kind} {result.obj.name} {'created' if result.created else 'saved'}.")
            return redirect("frontend:user-list")
    return render(request, "frontend/users/list.html", _context(forms), status=400)


@login_required
@require_POST
def password(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Reveal (or rotate, then reveal) a user's password; shown once on this page, never stored in it."""
    _staff(request)
    user = AccessObject.objects.filter(pk=pk, api_kind=USER).first()
    if user is None:
        raise Http404
    try:
        CredentialsThrottle().check(request)
    except Throttled as exc:
        messages.error(request, str(exc.detail))
        response = render(request, "frontend/users/list.html", _context(_blank_forms()), status=429)
        response["Retry-After"] = str(exc.wait)
        return response
    if action == "rotate":
        try:
            services.rotate_password(user, actor=request.user)
        except SpecError as exc:
            messages.error(request, "; ".join(m for ms in exc.errors.values() for m in ms))
            return render(request, "frontend/users/list.html", _context(_blank_forms()), status=400)
    revealed = {"user": user, "password": services.reveal_password(user, actor=request.user)}
    response = render(request, "frontend/users/list.html", _context(_blank_forms(), revealed))
    response["Cache-Control"] = "no-store"
    return response
