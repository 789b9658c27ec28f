"""`/api/v1/targets/`: staff connect, change, check and remove Kubernetes targets; the kubeconfig never comes back."""
from __future__ import annotations

import pytest
import yaml

from targets.models import Target

pytestmark = pytest.mark.django_db


def add(api, emulator, name="prod", **extra):
    return api.post("/api/v1/targets/", {"name": name, "kubeconfig": emulator.kubeconfig(), **extra}, format="json")


def test_staff_add_a_target_and_see_version_and_permissions_never_the_kubeconfig(staff_api, kube_emulator):
    kube_emulator.deny("policy", "poddisruptionbudgets", "create")
    response = add(staff_api, kube_emulator)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["kind"] == "kubernetes" and body["serverVersion"] == "v1.32.0-emulator"
    assert body["missingPermissions"] == ["create poddisruptionbudgets.policy"]
    assert "create poddisruptionbudgets.policy" in body["warnings"][0]
    listed = staff_api.get("/api/v1/targets/")
    assert "emulator-token" not in listed.content.decode() and "kubeconfig" not in listed.json()[0]
    assert {t["name"] for t in listed.json()} == {"local", "prod"}
    assert staff_api.get("/api/v1/targets/prod/").json()["checkedAt"]


def test_check_and_patch(staff_api, kube_emulator):
    add(staff_api, kube_emulator)
    kube_emulator.deny("", "pods", "delete")
    checked = staff_api.post("/api/v1/targets/prod/check/")
    assert checked.status_code == 200 and checked.json()["missingPermissions"] == ["delete pods"]
    config = yaml.safe_load(kube_emulator.kubeconfig())
    config["contexts"].append({"name": "other", "context": {"cluster": "emulator", "user": "tester"}})
    patched = staff_api.patch("/api/v1/targets/prod/", {"kubeconfig": yaml.safe_dump(config), "context": "other"},
                              format="json")
    assert patched.status_code == 200, patched.json()
    assert patched.json()["context"] == "other"
    assert Target.objects.get(name="prod").connection_settings()["context"] == "other"


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "Not A Name"}, "name"),
    ({"name": "local"}, "name"),
    ({"context": "missing"}, "context"),
    ({"kubeconfig": "[not, a, kubeconfig]"}, "kubeconfig"),
    ({"kubeconfig": ""}, "kubeconfig"),
    ({"inCluster": True}, "kubeconfig"),
    ({"inCluster": "maybe"}, "inCluster"),
])
def test_bad_input_is_a_field_level_400_and_stores_nothing(staff_api, kube_emulator, body, field):
    Target.default()
    before = Target.objects.count()
    response = staff_api.post("/api/v1/targets/", {"name": "prod", "kubeconfig": kube_emulator.kubeconfig(), **body},
                              format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    assert Target.objects.count() == before


def test_an_unreachable_server_is_a_400_on_kubeconfig(staff_api, kube_emulator):
    config = yaml.safe_load(kube_emulator.kubeconfig())
    config["clusters"][0]["cluster"]["server"] = "http://127.0.0.1:9"
    response = staff_api.post("/api/v1/targets/", {"name": "far", "kubeconfig": yaml.safe_dump(config)},
                              format="json")
    assert response.status_code == 400
    assert "cannot reach the Kubernetes API server" in response.json()["errors"]["kubeconfig"][0]
    assert not Target.objects.filter(name="far").exists()


def test_delete_refuses_a_target_with_clusters_with_409(staff_api, kube_emulator):
    from clusters.services import create_cluster

    add(staff_api, kube_emulator)
    add(staff_api, kube_emulator, name="spare")
    create_cluster(name="rec", spec={"nodes": 3}, target=Target.objects.get(name="prod"), actor="test")
    refused = staff_api.delete("/api/v1/targets/prod/")
    assert refused.status_code == 409 and "still has clusters (rec)" in refused.json()["detail"]
    assert staff_api.delete("/api/v1/targets/local/").status_code == 409
    assert staff_api.delete("/api/v1/targets/spare/").status_code == 204
    assert not Target.objects.filter(name="spare").exists()


def test_members_may_list_but_not_write(member_api, kube_emulator):
    assert member_api.get("/api/v1/targets/").status_code == 200
    assert add(member_api, kube_emulator).status_code == 403
    assert member_api.post("/api/v1/targets/local/check/").status_code == 403
    assert member_api.delete("/api/v1/targets/local/").status_code == 403
    assert not Target.objects.filter(name="prod").exists()


def test_adding_a_target_installs_the_rec_and_redb_crds_when_allowed(staff_api, kube_emulator):
    from operatorapi.schema import REC, crd

    response = add(staff_api, kube_emulator)
    assert response.status_code == 201 and response.json()["warnings"] == []
    installed = kube_emulator.store.find("CustomResourceDefinition", "", "redisenterpriseclusters.app.redislabs.com")
    assert installed["spec"]["versions"] == crd(REC)["spec"]["versions"]
    assert kube_emulator.store.find("CustomResourceDefinition", "", "redisenterprisedatabases.app.redislabs.com")


def test_without_the_permission_the_crds_are_a_warning_not_a_failure(staff_api, kube_emulator):
    kube_emulator.deny("apiextensions.k8s.io", "customresourcedefinitions", "create")
    response = add(staff_api, kube_emulator)
    assert response.status_code == 201
    (warning,) = response.json()["warnings"]
    assert "create customresourcedefinitions.apiextensions.k8s.io" in warning
    assert "kubectl apply -f deploy/kubernetes/crds/" in warning
    assert kube_emulator.store.find("CustomResourceDefinition", "", "redisenterpriseclusters.app.redislabs.com") is None
    assert response.json()["missingPermissions"] == []  # optional: the bundle installs the CRDs too
