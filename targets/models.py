"""Where clusters are realised: the local machine or a Kubernetes cluster."""
from django.db import models

from .encryption import EncryptedTextField, SealedTextField
from .sealing import unseal


class Target(models.Model):
    LOCAL = "local"
    KUBERNETES = "kubernetes"
    KIND_CHOICES = [(LOCAL, "Local processes"), (KUBERNETES, "Kubernetes")]

    name = models.SlugField(max_length=63, unique=True)
    kind = models.CharField(max_length=16, choices=KIND_CHOICES, default=LOCAL)
    # Connection settings. kubernetes: {"kubeconfig": "<yaml text>" | "kubeconfig_path": ..., "context": ...,
    # "in_cluster": bool, "create_namespaces": bool}. local: {"var_dir": ...} (optional overrides).
    settings = models.JSONField(default=dict, blank=True)
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # The kubeconfig, encrypted (targets/sealing.py); never shown back by any API, page or command.
    kubeconfig_sealed = SealedTextField(blank=True, default="")
    # The last `target check`: server version, and the permissions the control plane needs but lacks.
    server_version = models.CharField(max_length=64, blank=True, default="")
    checked_at = models.DateTimeField(null=True, blank=True)
    check_error = models.TextField(blank=True, default="")
    missing_permissions = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"

    def connection_settings(self) -> dict:
        """`settings` with the decrypted kubeconfig: what a driver connects with."""
        if not self.kubeconfig_sealed:
            return dict(self.settings or {})
        return {**(self.settings or {}), "kubeconfig": unseal(self.kubeconfig_sealed)}

    @classmethod
    def default(cls) -> "Target":
        """The target a REC lands on when none is named: the embedded local one."""
        target = cls.objects.filter(is_default=True).first()
        if target is None:
            target, _ = cls.objects.get_or_create(name="local", defaults={"kind": cls.LOCAL, "is_default": True})
        return target


class CertificateSecret(models.Model):
    """A named certificate secret on the local target: PEM certificates (CAs, or single client certificates)
    a REDB's `clientAuthenticationCertificates` names (mutual TLS); or, with its private key, a server
    certificate a REC's `certificates.proxyCertificateSecretName` names. The key is encrypted at rest and never
    shown. Kept with `manage.py certificate_secret` or the API (targets/certificates.py checks them)."""

    kind = "certificate"  # its timeline's object_kind (stored, replaced, deleted: targets/certificates.py)

    name = models.CharField(max_length=253, unique=True)
    certificate = models.TextField()
    key = EncryptedTextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"certificate secret {self.name}"
