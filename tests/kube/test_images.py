"""Images on Kubernetes: pull secrets, a private registry's repository, digests, pull policy, the rigger's image."""
from kube.render.cluster import cluster_manifests
from kube.render.database import database_manifests
from kube.render.inputs import ClusterInputs, DatabaseInputs, image_of
from specs.cluster import ClusterSpec
from specs.database import DatabaseSpec

DIGEST = "sha256:" + "ab" * 32


def rendered(rec: dict) -> dict[str, dict]:
    """The pod specs of the quorum and of a replicated database of a cluster with REC spec `rec`."""
    cluster_spec = ClusterSpec.from_spec({"nodes": 3, **rec})
    cluster = ClusterInputs(name="rec", namespace="prod", typed_spec=cluster_spec, version="7.2",
                            admin_username="admin", admin_password="x")
    spec = DatabaseSpec.from_spec({"memorySize": "200MB", "replication": True}, "orders")
    database = DatabaseInputs(name="orders", namespace="prod", typed_spec=spec, version="7.4",
                              image=image_of(spec, "7.4", None, cluster_spec.image_repository), password="y",
                              cluster=cluster)
    return {m["metadata"]["name"]: m["spec"]["template"]["spec"]
            for m in cluster_manifests(cluster) + database_manifests(database) if m["kind"] == "StatefulSet"}


def images(pod_spec: dict) -> dict[str, str]:
    return {c["name"]: c["image"] for c in pod_spec["containers"]}


def test_defaults_are_docker_hub_images_without_pull_secrets():
    pods = rendered({})
    assert images(pods["rec"]) == {"sentinel": "redis:7.2"}
    assert images(pods["orders"]) == {"redis": "redis:7.4", "metrics": "oliver006/redis_exporter:v1.62.0",
                                      "rigger": "bitnami/kubectl:1.30"}
    assert "imagePullSecrets" not in pods["orders"] and "imagePullPolicy" not in pods["orders"]["containers"][0]


def test_a_private_registry_with_pull_secrets_digests_and_pull_policy():
    pods = rendered({
        "pullSecrets": [{"name": "regcred"}, {"name": "mirror"}],
        "redisEnterpriseImageSpec": {"versionTag": "7.2", "repository": "registry.example.com:5000/mirror/redis",
                                     "digestHash": DIGEST, "imagePullPolicy": "IfNotPresent"},
        "redisEnterpriseServicesRiggerImageSpec": {"repository": "registry.example.com:5000/mirror/kubectl",
                                                   "versionTag": "1.30.4", "digestHash": DIGEST,
                                                   "imagePullPolicy": "Always"},
    })
    for pod in pods.values():
        assert pod["imagePullSecrets"] == [{"name": "regcred"}, {"name": "mirror"}]
    # The quorum runs the REC's version pinned by its digest; databases their own version from the same repository.
    assert images(pods["rec"]) == {"sentinel": f"registry.example.com:5000/mirror/redis:7.2@{DIGEST}"}
    assert images(pods["orders"])["redis"] == "registry.example.com:5000/mirror/redis:7.4"
    assert images(pods["orders"])["rigger"] == f"registry.example.com:5000/mirror/kubectl:1.30.4@{DIGEST}"
    policies = {c["name"]: c["imagePullPolicy"] for c in pods["orders"]["containers"]}
    assert policies == {"redis": "IfNotPresent", "metrics": "IfNotPresent", "rigger": "Always"}
