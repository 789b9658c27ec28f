"""Typed, defaulted view of a stored REC spec, for rendering and target drivers.

The stored spec keeps the operator's camelCase names; this is the one place that knows the
defaults, so renderers and drivers never repeat `spec.get("x", default)`.
"""
from dataclasses import dataclass, field

from core.quantity import parse_memory

DEFAULT_NODE_MEMORY = "4Gi"
DEFAULT_NODE_CPU = "2"


@dataclass(frozen=True)
class ClusterSpec:
    nodes: int = 3
    node_memory_bytes: int = 4 * 1024**3
    node_cpu: str = DEFAULT_NODE_CPU
    persistence_enabled: bool = True
    storage_class: str | None = None
    volume_size: str = "5Gi"
    # Version of the quorum members, from `redisEnterpriseImageSpec.versionTag`; None = the target's newest.
    redis_version: str | None = None
    node_selector: dict = field(default_factory=dict)
    tolerations: list = field(default_factory=list)
    pod_anti_affinity: dict | None = None
    rack_awareness_label: str | None = None
    priority_class: str | None = None
    extra_labels: dict = field(default_factory=dict)
    ui_service_type: str = "ClusterIP"
    ingress: dict | None = None
    enable_volume_resize: bool = False
    cluster_recovery: bool = False
    # Images on Kubernetes: `pullSecrets` names, the Redis image repository (`redisEnterpriseImageSpec.repository`,
    # default `redis`) and the quorum image's digest, the pull policy of every container, and the in-pod
    # rigger's image (`redisEnterpriseServicesRiggerImageSpec`); None = the defaults.
    pull_secrets: tuple = ()
    image_repository: str | None = None
    image_digest: str | None = None
    image_pull_policy: str | None = None
    rigger_image: dict | None = None
    # `certificates.proxyCertificateSecretName`: the secret holding the databases' server certificate and key
    # (None: the cluster CA signs one per database)
    proxy_certificate_secret: str | None = None

    @property
    def capacity_bytes(self) -> int:
        """Memory all databases of the cluster may use together."""
        return self.nodes * self.node_memory_bytes

    @classmethod
    def from_spec(cls, spec: dict) -> "ClusterSpec":
        resources = spec.get("redisEnterpriseNodeResources") or {}
        limits = resources.get("limits") or resources.get("requests") or {}
        persistent = spec.get("persistentSpec") or {}
        ingress = spec.get("ingressOrRouteSpec") or None
        image = spec.get("redisEnterpriseImageSpec") or {}
        return cls(
            nodes=int(spec.get("nodes", 3)),
            node_memory_bytes=parse_memory(limits.get("memory", DEFAULT_NODE_MEMORY)),
            node_cpu=str(limits.get("cpu", DEFAULT_NODE_CPU)),
            persistence_enabled=bool(persistent.get("enabled", True)),
            storage_class=persistent.get("storageClassName"),
            volume_size=str(persistent.get("volumeSize", "5Gi")),
            redis_version=image.get("versionTag"),
            node_selector=dict(spec.get("nodeSelector") or {}),
            tolerations=list(spec.get("podTolerations") or []),
            pod_anti_affinity=spec.get("podAntiAffinity"),
            rack_awareness_label=spec.get("rackAwarenessNodeLabel"),
            priority_class=spec.get("priorityClassName"),
            extra_labels=dict(spec.get("extraLabels") or {}),
            ui_service_type=str(spec.get("uiServiceType") or "ClusterIP"),
            ingress=ingress if ingress and ingress.get("method") == "ingress" else None,
            enable_volume_resize=bool(persistent.get("enablePersistentVolumeResize", False)),
            cluster_recovery=bool(spec.get("clusterRecovery", False)),
            pull_secrets=tuple(s["name"] for s in spec.get("pullSecrets") or []
                               if isinstance(s, dict) and s.get("name")),
            image_repository=image.get("repository"),
            image_digest=image.get("digestHash"),
            image_pull_policy=image.get("imagePullPolicy"),
            rigger_image=spec.get("redisEnterpriseServicesRiggerImageSpec") or None,
            proxy_certificate_secret=(spec.get("certificates") or {}).get("proxyCertificateSecretName") or None,
        )
