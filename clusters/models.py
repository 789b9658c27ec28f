"""A cluster (REC): quorum members that watch and fail over its databases, and their capacity."""
import secrets

from django.db import models

from specs.cluster import ClusterSpec
from targets.encryption import EncryptedTextField
from targets.managed import PENDING_CREATION, ManagedObject


def generate_password() -> str:
    return secrets.token_urlsafe(24)


class Cluster(ManagedObject):
    kind = "cluster"
    initial_state = PENDING_CREATION

    namespace = models.CharField(max_length=63, default="default")
    target = models.ForeignKey("targets.Target", on_delete=models.PROTECT, related_name="clusters")
    # Bootstrap credentials (Secret `<rec>`): kept here so the desired state can always be re-rendered;
    # the password is encrypted at rest (targets/encryption.py).
    admin_username = models.CharField(max_length=150, default="admin@redis.local")
    admin_password = EncryptedTextField(default=generate_password)
    # The cluster's own CA (JSON {"cert", "key"}, PEM) that signs its TLS databases' server certificates;
    # made on first need (clusters/certificates.py), encrypted at rest like the passwords.
    tls_ca = EncryptedTextField(blank=True, default="")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["name"], name="cluster_name_unique"),
            models.UniqueConstraint(fields=["target", "namespace"], name="one_cluster_per_namespace_per_target"),
        ]

    def parse_spec(self) -> ClusterSpec:
        return ClusterSpec.from_spec(self.spec)
