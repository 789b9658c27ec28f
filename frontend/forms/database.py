"""Create and edit a database (REDB). The version changes through the upgrade flow; the port once set stays."""
from __future__ import annotations

from django import forms

from accounts.models import Team
from accounts.visibility import visible_clusters
from clusters.models import Cluster
from specs.database import EVICTION_POLICIES, PERSISTENCE_MODES, DatabaseSpec

from .spec import SpecForm

DEFAULTS = DatabaseSpec()
PERSISTENCE_LABELS = {
    "disabled": "disabled (in memory only)",
    "aofEverySecond": "append-only file, fsync every second",
    "aofAlways": "append-only file, fsync every write",
    "snapshotEvery1Hour": "snapshot every hour",
    "snapshotEvery6Hour": "snapshot every 6 hours",
    "snapshotEvery12Hour": "snapshot every 12 hours",
}


class DatabaseForm(SpecForm):
    spec_paths = {
        "memory_size": "memorySize",
        "shard_count": "shardCount",
        "replication": "replication",
        "persistence": "persistence",
        "eviction_policy": "evictionPolicy",
        "database_port": "databasePort",
        "redis_version": "redisVersion",
    }

    cluster = forms.ModelChoiceField(queryset=Cluster.objects.none(), empty_label=None)
    name = forms.CharField(max_length=63, help_text="Lowercase letters, digits and dashes; it is the "
                                                    "Service name clients connect to.")
    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False, empty_label="my team",
                                  help_text="The team that owns the database and may see its credentials.")
    memory_size = forms.CharField(label="Memory", initial="100MB",
                                  help_text="Dataset size limit, e.g. 100MB, 1GB, 512Mi. Replication "
                                            "doubles what the cluster gives.")
    shard_count = forms.IntegerField(label="Shards", initial=DEFAULTS.shard_count,
                                     help_text="More than one makes a Redis Cluster; changing it reshards "
                                               "online.")
    replication = forms.BooleanField(required=False, initial=DEFAULTS.replication,
                                     help_text="A replica per shard, failed over by the cluster's sentinels.")
    persistence = forms.ChoiceField(choices=[(mode, PERSISTENCE_LABELS[mode]) for mode in PERSISTENCE_MODES],
                                    initial=DEFAULTS.persistence)
    eviction_policy = forms.ChoiceField(label="Eviction policy", choices=[(p, p) for p in EVICTION_POLICIES],
                                        initial=DEFAULTS.eviction_policy)
    database_port = forms.IntegerField(label="Port", required=False,
                                       help_text="Blank assigns a free one; it cannot change later.")
    redis_version = forms.CharField(label="Redis version", required=False,
                                    help_text="Blank uses the cluster's newest version.")

    def __init__(self, *args, user, editing: bool = False, versions: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.versions = versions or []
        self.fields["redis_version"].widget.attrs["list"] = "redis-versions"
        if editing:
            for identity in ("cluster", "name", "team", "database_port", "redis_version"):
                del self.fields[identity]
            return
        clusters = visible_clusters(user, Cluster.objects.all())
        self.fields["cluster"].queryset = clusters.filter(deletion_requested_at__isnull=True)
        teams = Team.objects.all() if user.is_staff else Team.objects.filter(members=user)
        self.fields["team"].queryset = teams
        if not user.is_staff and teams.count() == 1:
            self.fields["team"].initial = teams.first().pk
