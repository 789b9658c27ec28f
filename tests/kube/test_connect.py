"""Connecting a Kubernetes target: `manage.py target add|list|check|remove` against the API server emulator."""
from __future__ import annotations

import io

import pytest
import yaml
from django.core.management import CommandError, call_command

from kube.permissions import required_permissions
from targets.models import Target

pytestmark = pytest.mark.django_db(transaction=True)


def target(*args) -> str:
    out = io.StringIO()
    call_command("target", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def kubeconfig_file(tmp_path, kube_emulator):
    path = tmp_path / "kubeconfig"
    path.write_text(kube_emulator.kubeconfig(context="prod"))
    return path


def test_add_reports_the_server_version_and_stores_the_kubeconfig_encrypted(kubeconfig_file):
    out = target("add", "prod", "--kubeconfig", str(kubeconfig_file))
    assert "server v1.32.0-emulator" in out
    assert "all permissions the control plane needs are granted" in out
    stored = Target.objects.get(name="prod")
    assert stored.kind == Target.KUBERNETES and stored.server_version == "v1.32.0-emulator"
    assert "emulator-token" not in stored.kubeconfig_sealed and "emulator-token" not in str(stored.settings)
    assert stored.connection_settings()["kubeconfig"] == kubeconfig_file.read_text()
    listed = target("list")
    assert "prod" in listed and "v1.32.0-emulator" in listed and "emulator-token" not in listed


def test_add_and_check_name_exactly_the_missing_permissions(kubeconfig_file, kube_emulator):
    kube_emulator.deny("apps", "statefulsets", "delete")
    kube_emulator.deny("", "secrets")
    out = target("add", "prod", "--kubeconfig", str(kubeconfig_file))
    missing = [line.strip() for line in out.splitlines() if line.startswith("  ")]
    assert missing == ["create secrets", "delete secrets", "get secrets", "list secrets", "patch secrets",
                       "watch secrets", "delete statefulsets.apps"]
    kube_emulator.denied.clear()
    assert "all permissions" in target("check", "prod")
    assert Target.objects.get(name="prod").missing_permissions == []


def test_check_asks_one_access_review_per_required_permission(kubeconfig_file, kube_emulator):
    target("add", "prod", "--kubeconfig", str(kubeconfig_file))
    kube_emulator.reset_requests()
    target("check", "prod")
    reviews = [r for r in kube_emulator.requests if r.path.endswith("/selfsubjectaccessreviews")]
    assert len(reviews) == len(required_permissions())


def test_check_of_an_unreachable_target_is_a_clear_error_and_recorded(kubeconfig_file, kube_emulator):
    target("add", "prod", "--kubeconfig", str(kubeconfig_file))
    kube_emulator.stop()
    with pytest.raises(CommandError, match="not ready"):
        target("check", "prod")
    assert "unreachable" in Target.objects.get(name="prod").check_error


@pytest.mark.parametrize(("args", "message"), [
    (["Bad_Name"], "name: must be a DNS-1123 label"),
    (["prod", "--context", "nope"], "context: no context 'nope' in the kubeconfig; it has: prod"),
])
def test_add_refuses_bad_input_and_stores_nothing(kubeconfig_file, args, message):
    with pytest.raises(CommandError, match=message):
        target("add", *args, "--kubeconfig", str(kubeconfig_file))
    assert not Target.objects.filter(kind=Target.KUBERNETES).exists()


def test_add_refuses_an_unreachable_server_and_a_file_that_is_no_kubeconfig(tmp_path, kube_emulator):
    config = yaml.safe_load(kube_emulator.kubeconfig())
    config["clusters"][0]["cluster"]["server"] = "http://127.0.0.1:9"
    unreachable = tmp_path / "unreachable"
    unreachable.write_text(yaml.safe_dump(config))
    with pytest.raises(CommandError, match="kubeconfig: cannot reach the Kubernetes API server"):
        target("add", "far", "--kubeconfig", str(unreachable))
    garbage = tmp_path / "garbage"
    garbage.write_text("just: text\n")
    with pytest.raises(CommandError, match="kubeconfig: is not a kubeconfig"):
        target("add", "far", "--kubeconfig", str(garbage))
    with pytest.raises(CommandError, match="cannot read"):
        target("add", "far", "--kubeconfig", str(tmp_path / "absent"))
    assert not Target.objects.filter(name="far").exists()


def test_remove_refuses_a_target_with_clusters(kubeconfig_file):
    from clusters.services import create_cluster

    target("add", "prod", "--kubeconfig", str(kubeconfig_file))
    create_cluster(name="rec", spec={"nodes": 3}, target=Target.objects.get(name="prod"), actor="test")
    with pytest.raises(CommandError, match=r"still has clusters \(rec\)"):
        target("remove", "prod")
    with pytest.raises(CommandError, match="default target"):
        target("remove", Target.default().name)


@pytest.mark.parametrize(("user", "message"), [
    ({"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "touch"}}, "would run a program"),
    ({"auth-provider": {"name": "oidc"}}, "would run a program"),
    ({"client-certificate": "/etc/passwd", "client-key": "/etc/shadow"}, "'client-certificate' refers to a file"),
    ({"tokenFile": "/var/run/secrets/token"}, "'tokenFile' refers to a file"),
])
def test_a_kubeconfig_must_carry_its_credentials_inline(tmp_path, kube_emulator, user, message):
    config = yaml.safe_load(kube_emulator.kubeconfig())
    config["users"][0]["user"] = user
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(CommandError, match=message):
        target("add", "prod", "--kubeconfig", str(path))
    assert not Target.objects.filter(name="prod").exists()


def test_the_access_check_is_bounded_as_a_whole(kube_emulator):
    from core.errors import TargetError
    from kube.access import check_access
    from kube.client import KubeApi, build_api_client

    api = KubeApi(build_api_client({"kubeconfig": kube_emulator.kubeconfig()}), timeout=1.0)
    assert check_access(api).server_version == "v1.32.0-emulator"
    with pytest.raises(TargetError, match="answered too slowly"):
        check_access(api, deadline_seconds=0.0)


def test_an_in_cluster_target_reaches_pods_directly_by_their_dns_names():
    from kube.driver import KubernetesDriver

    driver = KubernetesDriver(Target(name="here", kind=Target.KUBERNETES, settings={"in_cluster": True}))
    name = "cache-0.cache-headless.redis.svc.cluster.local"
    assert driver.dataplane.enabled
    assert driver.dataplane.address(name, 6379) == (name, 6379)


def test_a_kubeconfig_sealed_with_another_key_is_a_target_error_not_a_crash(kubeconfig_file, settings):
    from cryptography.fernet import Fernet

    from core.errors import TargetError

    target("add", "prod", "--kubeconfig", str(kubeconfig_file))
    settings.CONTROLPLANE_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(TargetError, match="cannot be decrypted"):
        Target.objects.get(name="prod").connection_settings()
    with pytest.raises(CommandError, match="not ready"):
        target("check", "prod")
    assert "cannot be decrypted" in Target.objects.get(name="prod").check_error
