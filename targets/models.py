"""Where clusters are realised: the local machine or a Kubernetes cluster."""
from django.db import models


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

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"

    @classmethod
    def default(cls) -> "Target":
        """The target a REC lands on when none is named: the embedded local one."""
        target = cls.objects.filter(is_default=True).first()
        if target is None:
            target, _ = cls.objects.get_or_create(name="local", defaults={"kind": cls.LOCAL, "is_default": True})
        return target
