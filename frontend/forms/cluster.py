"""Create and edit a cluster (REC); staff only. The version changes through the upgrade flow."""
from __future__ import annotations

from django import forms

from specs.cluster import DEFAULT_NODE_CPU, DEFAULT_NODE_MEMORY, ClusterSpec
from targets.models import Target

from .spec import SpecForm

DEFAULTS = ClusterSpec()


class ClusterForm(SpecForm):
    spec_paths = {
        "nodes": "nodes",
        "node_memory": "redisEnterpriseNodeResources.limits.memory",
        "node_cpu": "redisEnterpriseNodeResources.limits.cpu",
        "persistence_enabled": "persistentSpec.enabled",
        "storage_class": "persistentSpec.storageClassName",
        "volume_size": "persistentSpec.volumeSize",
        "version": "redisEnterpriseImageSpec.versionTag",
    }

    name = forms.CharField(max_length=63, help_text="Lowercase letters, digits and dashes; it names the "
                                                    "quorum StatefulSet and the admin Secret.")
    namespace = forms.CharField(max_length=63, required=False,
                                help_text="Kubernetes namespace of the cluster; blank means “default”.")
    target = forms.ModelChoiceField(queryset=Target.objects.all(), required=False, empty_label="default target",
                                    help_text="Where the cluster runs.")
    nodes = forms.IntegerField(initial=DEFAULTS.nodes, help_text="Quorum members; an odd number, at least 3 on "
                                                                 "Kubernetes.")
    node_memory = forms.CharField(label="Memory per node", initial=DEFAULT_NODE_MEMORY,
                                  help_text="Capacity = nodes × this, shared by the cluster's databases "
                                            "(e.g. 4Gi).")
    node_cpu = forms.CharField(label="CPU per node", initial=DEFAULT_NODE_CPU)
    persistence_enabled = forms.BooleanField(label="Persistent volumes", required=False, initial=True,
                                             help_text="Mandatory on Kubernetes.")
    storage_class = forms.CharField(label="Storage class", required=False,
                                    help_text="Blank uses the Kubernetes default storage class.")
    volume_size = forms.CharField(label="Volume size", initial=DEFAULTS.volume_size)
    version = forms.CharField(label="Redis version", required=False,
                              help_text="Blank picks the newest version the target offers.")

    def __init__(self, *args, editing: bool = False, versions: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.versions = versions or []
        self.fields["version"].widget.attrs["list"] = "redis-versions"
        self.fields["target"].label_from_instance = lambda target: f"{target.name} ({target.get_kind_display()})"
        if editing:
            for identity in ("name", "namespace", "target", "version"):
                del self.fields[identity]
