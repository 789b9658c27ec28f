"""Users, roles, role bindings and ACLs in the Redis Enterprise operator's model (app.redislabs.com/v1alpha1).

One row per object, kind + namespace + name like a custom resource; the spec is stored as given (checked by
access/validation.py). A user's data-plane password is encrypted at rest and never serialized in lists.
"""
from __future__ import annotations

from django.db import models

from clusters.models import generate_password
from targets.encryption import EncryptedTextField

ACL, ROLE, USER, BINDING = "RedisEnterpriseACL", "RedisEnterpriseRole", "RedisEnterpriseUser", \
    "RedisEnterpriseRoleBinding"
KIND_WORDS = {ACL: "acl", ROLE: "role", USER: "user", BINDING: "rolebinding"}


class AccessObject(models.Model):
    api_kind = models.CharField(max_length=32, choices=[(kind, kind) for kind in KIND_WORDS])
    namespace = models.CharField(max_length=63, default="default")
    name = models.CharField(max_length=253)
    spec = models.JSONField(default=dict)
    labels = models.JSONField(default=dict, blank=True)
    annotations = models.JSONField(default=dict, blank=True)
    generation = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # RedisEnterpriseUser only: the data-plane password (generated, or the last one its passwordSecrets
    # Secret gave: access/passwords.py).
    password = EncryptedTextField(default=generate_password)
    status = models.JSONField(default=dict, blank=True)  # observed: where the password comes from, or why not

    class Meta:
        ordering = ["api_kind", "namespace", "name"]
        constraints = [models.UniqueConstraint(fields=["api_kind", "namespace", "name"],
                                               name="access_object_unique")]

    def __str__(self) -> str:
        return f"{self.api_kind}/{self.namespace}/{self.name}"

    @property
    def kind(self) -> str:
        """The word events and URLs use: acl, role, user, rolebinding."""
        return KIND_WORDS[self.api_kind]


class InternalLogin(models.Model):
    """The control plane's own user on a database whose default user is off (access/internal.py)."""
    database = models.OneToOneField("databases.Database", on_delete=models.CASCADE, related_name="internal_login")
    password = EncryptedTextField(default=generate_password)

    def __str__(self) -> str:
        return f"internal login of database {self.database_id}"
