"""What clusters and databases share: a desired spec, its generation and the observed status."""
import copy

from django.db import models

from core.kinds import Status, StatusSet

# Status words. Clusters use the REC words; databases the REDB words (docs/architecture.md, "Status words").
PENDING_CREATION = "PendingCreation"
INITIALIZING = "Initializing"
RUNNING = "Running"
ERROR = "Error"
INVALID = "Invalid"

DB_PENDING = "pending"
DB_ACTIVE = "active"
DB_CHANGE_PENDING = "active-change-pending"
DB_DELETE_PENDING = "delete-pending"
DB_CREATION_FAILED = "creation-failed"
DB_RECOVERY = "recovery"

# Every word with its label and tone ("ok" green, "busy" blue, "bad" red; the dashboard always shows the
# word and a symbol with the colour). The one definition the engine, API and dashboard read.
_FAILED = [Status(ERROR, "Error", "bad"), Status(INVALID, "Invalid", "bad")]
CLUSTER_STATUSES = StatusSet([
    Status(PENDING_CREATION, "Pending creation", "busy"),
    Status(INITIALIZING, "Initializing", "busy"),
    Status(RUNNING, "Running", "ok"),
    *_FAILED,
], initial=PENDING_CREATION, running=RUNNING)
DATABASE_STATUSES = StatusSet([
    Status(DB_PENDING, "Pending", "busy"),
    Status(DB_ACTIVE, "Active", "ok"),
    Status(DB_CHANGE_PENDING, "Active, change pending", "busy"),
    Status(DB_DELETE_PENDING, "Delete pending", "busy"),
    Status(DB_CREATION_FAILED, "Creation failed", "bad"),
    Status(DB_RECOVERY, "Recovery", "busy"),
    *_FAILED,
], initial=DB_PENDING, running=DB_ACTIVE, deleting=DB_DELETE_PENDING)


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

    def parse_spec(self):
        """The typed view of `spec` (ClusterSpec, DatabaseSpec); set by subclasses."""
        raise NotImplementedError

    @property
    def typed_spec(self):
        """`spec` parsed once for as long as it stays the same: a reconcile reads it many times."""
        cached = self.__dict__.get("_typed_spec")
        if cached is None or cached[0] != self.spec or cached[1] != self.name:
            cached = (copy.deepcopy(self.spec), self.name, self.parse_spec())
            self.__dict__["_typed_spec"] = cached
        return cached[2]

    @property
    def state(self) -> str:
        return self.status.get("state", "")

    @property
    def observed_generation(self) -> int:
        return int(self.status.get("observedGeneration", 0))
