"""The event timeline of every cluster and database."""
from django.db import models


class Event(models.Model):
    NORMAL = "Normal"
    WARNING = "Warning"
    TYPE_CHOICES = [(NORMAL, NORMAL), (WARNING, WARNING)]

    # Kept as kind + id rather than foreign keys so the timeline outlives a deleted object.
    object_kind = models.CharField(max_length=16)  # "cluster" | "database"
    object_id = models.BigIntegerField()
    object_name = models.CharField(max_length=200)
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL)
    time = models.DateTimeField(auto_now_add=True, db_index=True)
    type = models.CharField(max_length=8, choices=TYPE_CHOICES, default=NORMAL)
    reason = models.CharField(max_length=64)
    message = models.TextField(blank=True)
    actor = models.CharField(max_length=150, blank=True, help_text="User, or 'controlplane' for the reconciler.")

    class Meta:
        ordering = ["-time", "-id"]
        indexes = [models.Index(fields=["object_kind", "object_id", "-time"])]

    def __str__(self) -> str:
        return f"{self.object_kind}/{self.object_name} {self.type} {self.reason}"
