"""The create/edit flow both spec forms share: fill, preview as YAML, hand to a service, show its errors."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views import View

from core.errors import SpecError, StaleGeneration
from targets.writes import WriteResult

from ..forms.spec import SpecForm


class SpecFormView(LoginRequiredMixin, View):
    """GET shows the form with defaults; POST "preview" shows the YAML; POST saves through the service."""

    template_name = ""
    editing = False

    # -- what a concrete page provides -------------------------------------------------------------
    def allowed(self) -> bool:
        raise NotImplementedError

    def make_form(self, data=None) -> SpecForm:
        raise NotImplementedError

    def base_spec(self) -> dict:
        """The spec the form's fields are laid over: {} on create, the stored spec on edit."""
        return {}

    def save(self, form: SpecForm, spec: dict) -> WriteResult:
        raise NotImplementedError

    def yaml_for(self, form: SpecForm, spec: dict) -> str:
        raise NotImplementedError

    def extra_context(self) -> dict:
        return {}

    # -- the flow ----------------------------------------------------------------------------------
    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated:
            self.setup_object(**kwargs)
            if not self.allowed():
                raise PermissionDenied("You may not change this.")
        return super().dispatch(request, *args, **kwargs)

    def setup_object(self, **kwargs) -> None:
        """Load the edited object (edit pages); nothing on create."""

    def get(self, request: HttpRequest, **kwargs) -> HttpResponse:
        form = self.make_form()
        untouched = form.build_spec(self.base_spec(), values=form.initial_values())
        return self.show(form, self.yaml_for(form, untouched))

    def post(self, request: HttpRequest, **kwargs) -> HttpResponse:
        form = self.make_form(request.POST)
        yaml_text = ""
        if form.is_valid():
            spec = form.build_spec(self.base_spec())
            yaml_text = self.yaml_for(form, spec)
            if "preview" not in request.POST:
                try:
                    result = self.save(form, spec)
                except SpecError as error:
                    form.add_spec_error(error)
                    for warning in error.warnings:
                        messages.warning(request, warning)
                except StaleGeneration as error:
                    form.add_error(None, str(error))
                else:
                    return self.saved(result)
        status = 400 if form.errors else 200
        return self.show(form, yaml_text, status=status)

    def saved(self, result: WriteResult) -> HttpResponse:
        obj = result.obj
        if result.created:
            messages.success(self.request, f"{obj.kind.capitalize()} {obj.name} created; it is being set up.")
        elif result.changed:
            messages.success(self.request, f"{obj.kind.capitalize()} {obj.name} updated to generation "
                                           f"{obj.generation}; the change is being applied.")
        else:
            messages.info(self.request, "Nothing changed.")
        for warning in result.warnings:
            messages.warning(self.request, warning)
        return redirect(f"frontend:{obj.kind}-detail", pk=obj.pk)

    def show(self, form: SpecForm, yaml_text: str, status: int = 200) -> HttpResponse:
        context = {"form": form, "yaml": yaml_text, "editing": self.editing, "versions": form.versions,
                   **self.extra_context()}
        return render(self.request, self.template_name, context, status=status)

