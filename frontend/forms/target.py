"""Connecting a Kubernetes cluster from the dashboard; `targets.connect` validates and stores it."""
from __future__ import annotations

from django import forms

from core.errors import SpecError

# targets.connect field names -> this form's fields
FIELDS = {"name": "name", "kubeconfig": "kubeconfig", "context": "context", "inCluster": "in_cluster"}


class TargetForm(forms.Form):
    name = forms.CharField(max_length=63, help_text="Lowercase letters, digits and '-'; clusters name it.")
    kubeconfig = forms.CharField(
        required=False, max_length=256 * 1024, strip=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "autocomplete": "off"}),
        help_text="Paste a kubeconfig. It is stored encrypted and never shown again.")
    context = forms.CharField(required=False, max_length=253,
                              help_text="A context of the kubeconfig; empty: its current-context.")
    in_cluster = forms.BooleanField(required=False, label="In-cluster",
                                    help_text="The cluster this control plane runs in, with its service account.")

    def forget_kubeconfig(self) -> None:
        """A rejected form comes back without the pasted kubeconfig: a secret is never echoed into a page."""
        if self.is_bound:
            self.data = self.data.copy()
            self.data["kubeconfig"] = ""

    def add_spec_error(self, error: SpecError) -> None:
        for path, messages in error.errors.items():
            field = FIELDS.get(path)
            for message in messages:
                self.add_error(field, message)
