"""The Targets page: everyone signed in sees targets and their last check; staff connect a cluster there."""
from __future__ import annotations

import pytest

from targets.models import Target

pytestmark = pytest.mark.django_db


def test_staff_connect_a_cluster_and_see_version_and_missing_permissions(logged_in, staff_user, kube_emulator):
    kube_emulator.deny("apps", "statefulsets", "patch")
    client = logged_in(staff_user)
    page = client.get("/targets/").content.decode()
    assert "Connect a Kubernetes cluster" in page and 'data-target="local"' in page
    response = client.post("/targets/", {"name": "prod", "kubeconfig": kube_emulator.kubeconfig()}, follow=True)
    page = response.content.decode()
    assert "Target prod added: server v1.32.0-emulator" in page
    assert "patch statefulsets.apps" in page and 'data-target="prod"' in page
    assert "emulator-token" not in page


def test_bad_input_shows_field_errors_and_adds_nothing(logged_in, staff_user, kube_emulator):
    response = logged_in(staff_user).post("/targets/", {"name": "prod", "kubeconfig": kube_emulator.kubeconfig(),
                                                        "context": "nope"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "no context &#x27;nope&#x27; in the kubeconfig" in page
    assert "emulator-token" not in page  # the pasted kubeconfig is not echoed back
    assert not Target.objects.filter(name="prod").exists()


def test_members_see_targets_without_the_form_and_cannot_post(logged_in, member, kube_emulator):
    client = logged_in(member)
    page = client.get("/targets/").content.decode()
    assert 'data-target="local"' in page and "Connect a Kubernetes cluster" not in page
    assert client.post("/targets/", {"name": "prod", "kubeconfig": kube_emulator.kubeconfig()}).status_code == 403
    assert not Target.objects.filter(name="prod").exists()
