"""deploy/: the kustomize base and the generated bundle.yaml install a control plane that validates, meets
Pod Security "restricted", holds exactly the permissions it needs, and carries no secret."""
from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from kube.permissions import cluster_role_rules

ROOT = Path(__file__).resolve().parents[2]
SECRET_NAME = "redis-controlplane"


def load_script():
    spec = importlib.util.spec_from_file_location("deploy_bundle", ROOT / "scripts" / "deploy_bundle.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bundle() -> list[dict]:
    return [doc for doc in yaml.safe_load_all((ROOT / "deploy" / "bundle.yaml").read_text()) if doc]


def of_kind(bundle: list[dict], kind: str) -> list[dict]:
    return [doc for doc in bundle if doc["kind"] == kind]


def pod_specs(bundle: list[dict]) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc["spec"]["template"]["spec"]
            for doc in bundle if doc["kind"] in ("Deployment", "StatefulSet")}


def test_the_committed_files_are_what_the_script_generates():
    script = load_script()
    assert (ROOT / "deploy" / "kubernetes" / "clusterrole.yaml").read_text() == script.cluster_role_text(), \
        "run scripts/deploy_bundle.py"
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed: cannot regenerate the bundle to compare")
    assert (ROOT / "deploy" / "bundle.yaml").read_text() == script.bundle_text(), "run scripts/deploy_bundle.py"


def test_it_holds_web_worker_beat_redis_postgres_and_rbac(bundle):
    kinds = sorted(f"{doc['kind']}/{doc['metadata']['name']}" for doc in bundle)
    for expected in ("Deployment/web", "Deployment/worker", "Deployment/beat", "Deployment/watcher",
                     "Deployment/redis", "StatefulSet/postgres", "Service/web", "Service/redis", "Service/postgres",
                     "ServiceAccount/redis-controlplane", "ClusterRole/redis-controlplane",
                     "ClusterRoleBinding/redis-controlplane", "Namespace/redis-controlplane"):
        assert expected in kinds
    assert of_kind(bundle, "Namespace")[0]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    beat = next(d for d in of_kind(bundle, "Deployment") if d["metadata"]["name"] == "beat")
    assert beat["spec"]["replicas"] == 1 and beat["spec"]["strategy"]["type"] == "Recreate"


def test_every_object_validates_strictly_against_kubernetes_1_30(bundle):
    for doc in bundle:
        kubernetes_validate.validate(doc, "1.30.0", strict=True)


def test_every_pod_meets_pod_security_restricted(bundle):
    specs = pod_specs(bundle)
    assert set(specs) == {"web", "worker", "beat", "watcher", "redis", "postgres"}
    for name, spec in specs.items():
        pod = spec.get("securityContext") or {}
        assert not spec.get("hostNetwork") and not spec.get("hostPID") and not spec.get("hostIPC"), name
        assert not [v for v in spec.get("volumes", []) if "hostPath" in v], name
        for container in spec.get("initContainers", []) + spec["containers"]:
            where = f"{name}/{container['name']}"
            own = container.get("securityContext") or {}
            assert own.get("runAsNonRoot", pod.get("runAsNonRoot")) is True, where
            assert own.get("runAsUser", pod.get("runAsUser")) not in (0, None), where
            assert (own.get("seccompProfile") or pod.get("seccompProfile")) == {"type": "RuntimeDefault"}, where
            assert own.get("allowPrivilegeEscalation") is False, where
            assert own.get("capabilities", {}).get("drop") == ["ALL"], where
            assert not own.get("capabilities", {}).get("add"), where
            assert not own.get("privileged"), where
            assert container["resources"]["requests"] and container["resources"]["limits"]["memory"], where
        for container in spec["containers"]:
            assert "livenessProbe" in container, f"{name}/{container['name']} has no liveness probe"


def test_the_cluster_role_is_exactly_the_one_permissions_definition(bundle):
    (role,) = of_kind(bundle, "ClusterRole")
    assert role["rules"] == cluster_role_rules()
    (binding,) = of_kind(bundle, "ClusterRoleBinding")
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    (account,) = of_kind(bundle, "ServiceAccount")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": account["metadata"]["name"],
                                    "namespace": account["metadata"]["namespace"]}]
    specs = pod_specs(bundle)
    for name in ("web", "worker", "watcher"):  # the processes that talk to Kubernetes
        assert specs[name]["serviceAccountName"] == account["metadata"]["name"]
        assert specs[name]["automountServiceAccountToken"] is True
    for name in ("beat", "redis", "postgres"):
        assert specs[name]["automountServiceAccountToken"] is False


def test_secrets_come_from_a_secret_the_user_creates_never_inline(bundle):
    assert not of_kind(bundle, "Secret")
    (config,) = of_kind(bundle, "ConfigMap")
    assert "@" in config["data"]["DATABASE_URL"] and ":" not in config["data"]["DATABASE_URL"].split("//")[1].split(
        "@")[0], "no password in DATABASE_URL"
    secret_keys = set()
    for spec in pod_specs(bundle).values():
        for container in spec.get("initContainers", []) + spec["containers"]:
            for env in container.get("env", []):
                if any(word in env["name"] for word in ("PASSWORD", "SECRET", "KEY")):
                    ref = env["valueFrom"]["secretKeyRef"]
                    assert ref["name"] == SECRET_NAME
                    secret_keys.add(ref["key"])
    assert secret_keys == {"django-secret-key", "encryption-key", "database-password"}


def test_the_control_plane_image_is_configurable(bundle):
    kustomization = yaml.safe_load((ROOT / "deploy" / "kubernetes" / "kustomization.yaml").read_text())
    (entry,) = [i for i in kustomization["images"] if i["name"] == "redis-controlplane"]
    wanted = f"{entry['newName']}:{entry['newTag']}"
    for name in ("web", "worker", "beat", "watcher"):
        spec = pod_specs(bundle)[name]
        assert {c["image"] for c in spec.get("initContainers", []) + spec["containers"]} == {wanted}
