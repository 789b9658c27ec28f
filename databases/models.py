"""A database (REDB): shards of stock redis-server behind one endpoint, on a cluster."""
from django.db import models

from clusters.models import generate_password
from specs.database import DatabaseSpec
from targets.encryption import EncryptedTextField
from targets.managed import DB_PENDING, ManagedObject


class Database(ManagedObject):
    kind = "database"
    initial_state = DB_PENDING

    cluster = models.ForeignKey("clusters.Cluster", on_delete=models.PROTECT, related_name="databases")
    # The data-plane password (Secret `redb-<db>` key `password`). Never serialized in list/detail
    # output; only the credentials endpoint and command reveal it, and each reveal is an event. Encrypted
    # at rest (targets/encryption.py).
    password = EncryptedTextField(default=generate_password)

    class Meta:
        ordering = ["cluster__name", "name"]
        constraints = [models.UniqueConstraint(fields=["cluster", "name"], name="database_name_unique_in_cluster")]

    @property
    def namespace(self) -> str:
        return self.cluster.namespace

    @property
    def target(self):
        return self.cluster.target

    def parse_spec(self) -> DatabaseSpec:
        return DatabaseSpec.from_spec(self.spec, self.name)
