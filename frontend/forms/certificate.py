"""Storing a certificate secret from the dashboard; targets/certificates.py checks it (the API's service)."""
from __future__ import annotations

from django import forms

from core.errors import SpecError
from targets.certificates import MAX_PEM_BYTES

PEM = {"rows": 6, "spellcheck": "false", "autocomplete": "off"}


class CertificateSecretForm(forms.Form):
    name = forms.CharField(max_length=253, help_text="What clientAuthenticationCertificates or "
                                                     "certificates.proxyCertificateSecretName names.")
    certificate = forms.CharField(max_length=MAX_PEM_BYTES, strip=False, widget=forms.Textarea(attrs=PEM),
                                  help_text="PEM: a client CA, or a server certificate followed by the CA that "
                                            "issued it.")
    key = forms.CharField(required=False, max_length=MAX_PEM_BYTES, strip=False, label="Private key",
                          widget=forms.Textarea(attrs=PEM),
                          help_text="Only for a server certificate: its unencrypted PEM key. Stored encrypted, "
                                    "never shown again.")

    def forget_key(self) -> None:
        """A rejected form comes back without the pasted key: a secret is never echoed into a page."""
        if self.is_bound:
            self.data = self.data.copy()
            self.data["key"] = ""

    def add_spec_error(self, error: SpecError) -> None:
        for path, messages in error.errors.items():
            for message in messages:
                self.add_error(path if path in self.fields else None, message)
