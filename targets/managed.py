"""What clusters and databases share: a desired spec, its generation and the observed status."""
from django.db import models

# Status words. Clusters use the REC words; databases the REDB words (see DESIGN.md).
PENDING_CREATION = "PendingCreation"
INITIALIZING = "Initializing"
RUNNING = "Running"
ERROR = "Error"
INVALID = "Invalid"
CLUSTER_STATES = [PENDING_CREATION, INITIALIZING, RUNNING, ERROR, INVALID]

DB_PENDING = "pending"
DB_ACTIVE = "active"
DB_CHANGE_PENDING = "active-change-pending"
DB_DELETE_PENDING = "delete-pending"
DB_CREATION_FAILED = "creation-failed"
DB_RECOVERY = "recovery"
DATABASE_STATES = [DB_PENDING, DB_ACTIVE, DB_CHANGE_PENDING, DB_DELETE_PENDING, DB_CREATION_FAILED, DB_RECOVERY,
                   ERROR, INVALID]


class ManagedObject(models.Model):
    """A desired spec stored with operator field names, and the status last observed for it.

    `spec` is written only by the validator's write paths (which bump `generation`); `status` only by
    the reconciler, with a targeted UPDATE so a concurrent spec write is never overwritten.
    """

    name = models.CharField(max_length=63)
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.PROTECT)
    spec = models.JSONField(default=dict)
    generation = models.PositiveIntegerField(default=1)
    status = models.JSONField(default=dict, blank=True)
    # Kubernetes metadata of the REC/REDB, kept as given (targets/metadata.py); not part of the spec.
    labels = models.JSONField(default=dict, blank=True)
    annotations = models.JSONField(default=dict, blank=True)
    deletion_requested_at = models.DateTimeField(null=True, blank=True)
    delete_data = models.BooleanField(default=False, help_text="Remove data volumes/files on deletion.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    kind: str = ""  # "cluster" | "database"; set by subclasses
    initial_state: str = ""  # the state a new object shows before its first reconcile

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        if self._state.adding and not self.status:
            self.status = {"state": self.initial_state, "specStatus": "Valid", "observedGeneration": 0,
                           "conditions": []}
        super().save(*args, **kwargs)

    @property
    def state(self) -> str:
        return self.status.get("state", "")

    @property
    def observed_generation(self) -> int:
        return int(self.status.get("observedGeneration", 0))
