"""The REC as JSON: `{"name", "namespace", "target", "team", "spec", "generation", "status"}`."""
from __future__ import annotations

from operatorapi.schema import REC
from targets.api.serializers import ManagedObjectSerializer, NameField, StrictCharField, spec_field


class ClusterSerializer(ManagedObjectSerializer):
    spec = spec_field(REC)
    namespace = StrictCharField(required=False, max_length=63,
                                help_text="Where the cluster lives on its target. Immutable.")
    target = NameField(required=False, help_text="Target name; default: the default target. Immutable.")
    team = NameField(read_only=True, allow_null=True, help_text="Owning team, if any.")
