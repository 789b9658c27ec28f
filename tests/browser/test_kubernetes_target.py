"""The dashboard on a Kubernetes target: the real engine and `kubernetes` client against the API server
emulator over HTTP, with the simulated StatefulSet controller standing in for kubelets.

An operator watches a cluster go PendingCreation -> Initializing (with the reason) -> Running without
reloading; a team's database page says how to connect from outside (`kubectl port-forward`).
"""
from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.kube.emulator import KubernetesApiEmulator, SimulatedController

pytestmark = pytest.mark.timeout(180)

STATUS_BADGE = ".status-panel [data-field=state] .badge-text"


@pytest.fixture(scope="module")
def emulator(stack):
    emulator = KubernetesApiEmulator()
    emulator.start()
    settings = {"kubeconfig": emulator.kubeconfig(), "request_timeout": 1.0}
    stack.manage("shell", "-c", "from targets.models import Target; "
                 f"Target.objects.create(name='k8s', kind='kubernetes', settings={json.dumps(settings)})")
    yield emulator
    emulator.stop()


def test_a_kubernetes_cluster_comes_up_live_and_a_database_says_how_to_connect(stack, emulator, sign_in, shot):
    controller = SimulatedController(emulator.store)
    ops = sign_in("ops")
    ops.goto("/clusters/new/")
    ops.get_by_label("Name", exact=True).fill("edge")
    ops.get_by_label("Namespace").fill("redis-edge")
    ops.get_by_label("Target").select_option(label="k8s (Kubernetes)")
    ops.get_by_role("button", name="Create cluster").click()
    ops.wait_for_url(re.compile(r"/clusters/\d+/$"))
    expect(ops.locator(STATUS_BADGE)).to_have_text("PendingCreation")
    expect(ops.locator("#connection")).to_have_text("Live updates on.")
    loaded_at = ops.evaluate("window.__loadedAt")

    stack.reconcile("edge", "rec", wait=False)  # StatefulSet applied; no pods yet
    expect(ops.locator(".status-panel [data-field=progress]")).to_contain_text("waiting for Kubernetes")
    controller.break_pods("edge-2", "ImagePullBackOff")
    controller.step()
    stack.reconcile("edge", "rec", wait=False)
    expect(ops.locator(STATUS_BADGE)).to_have_text("Initializing")
    progress = ops.locator(".status-panel [data-field=progress]")
    expect(progress).to_contain_text("ImagePullBackOff")
    expect(progress).to_contain_text("2 of 3 ready")
    shot(ops, "20-kubernetes-cluster-initializing")

    controller.heal()
    controller.step()
    stack.reconcile("edge", "rec", wait=False)
    expect(ops.locator(STATUS_BADGE)).to_have_text("Running")
    assert ops.evaluate("window.__badgeStates") == ["PendingCreation", "Initializing", "Running"]
    assert ops.evaluate("window.__loadedAt") == loaded_at, "the page was reloaded"
    expect(ops.locator(".status-panel [data-field=progress]")).to_be_hidden()
    shot(ops, "21-kubernetes-cluster-running")

    alice = sign_in("alice")
    alice.goto("/databases/new/")
    alice.get_by_label("Cluster").select_option(label="edge")
    alice.get_by_label("Name", exact=True).fill("sessions")
    alice.get_by_label("Replication").check()
    alice.get_by_label("Redis version").fill("7.2")
    alice.get_by_role("button", name="Create database").click()
    alice.wait_for_url(re.compile(r"/databases/\d+/$"))
    connect = alice.locator("section.connect")
    expect(connect).to_contain_text("sessions.redis-edge.svc.cluster.local")
    expect(connect.locator("pre")).to_contain_text("kubectl -n redis-edge port-forward svc/sessions")
    settle(stack, controller, "sessions", alice)
    shot(alice, "22-kubernetes-database")

    # an upgrade rolls pod by pod (replica first); the page shows each step as it happens
    alice.get_by_role("link", name="Upgrade").click()
    alice.get_by_label("Redis 7.4 (newer)").check()
    alice.get_by_role("button", name="Continue").click()
    alice.get_by_role("button", name="Upgrade to 7.4").click()
    expect(alice.locator(".status-panel [data-field=version]")).to_have_text("7.2")
    loaded_at = alice.evaluate("window.__loadedAt")
    settle(stack, controller, "sessions", alice)
    expect(alice.locator(".status-panel [data-field=version]")).to_have_text("7.4")
    assert alice.evaluate("window.__loadedAt") == loaded_at, "the page was reloaded"
    seen = alice.evaluate("window.__progressTexts")
    assert any("Rollout: replacing replica" in text for text in seen), seen
    assert alice.evaluate("window.__badgeStates") == ["active", "active-change-pending", "active"]


def settle(stack, controller, name: str, page, steps: int = 8) -> None:
    """Reconcile and let the simulated kubelets act, until the database page shows it active and settled."""
    for _ in range(steps):
        stack.reconcile(name, "redb", wait=False)
        if page.locator(STATUS_BADGE).text_content() == "active" and \
                not page.locator(".status-panel [data-field=progress]").text_content().strip():
            return
        controller.step()
    expect(page.locator(STATUS_BADGE)).to_have_text("active")
