"""Fixtures for the Kubernetes target: an API server emulator over HTTP and a simulated controller.

`kube_env` starts a fresh emulator per test (a thread on 127.0.0.1, milliseconds to start), with a
`Target(kind="kubernetes")` whose kubeconfig points at it. Other areas can reuse it to get a
working Kubernetes target: `kube_env.target`, `kube_env.settle()` to let the simulated
StatefulSet controller create and ready pods.
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest
import yaml
from kubernetes import config as k8s_config

from .emulator import Fault, KubernetesApiEmulator, SimulatedController
from .podrunner import PodRunner, unavailable


@dataclass
class KubeEnv:
    emulator: KubernetesApiEmulator
    controller: SimulatedController
    target: object

    @property
    def store(self):
        return self.emulator.store

    def settle(self) -> None:
        """Let the simulated controller create pods/PVCs for every StatefulSet and report status."""
        self.controller.step()

    def auto_settle(self) -> None:
        """Run the simulated controller after every successful write, like a live cluster would."""
        self.emulator.after_write.append(self.controller.step)

    def inject(self, **kwargs) -> Fault:
        return self.emulator.inject(Fault(**kwargs))


@pytest.fixture
def kube_emulator():
    emulator = KubernetesApiEmulator()
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture
def kube_client(kube_emulator):
    """The official client's ApiClient pointed at the emulator, as any Kubernetes tool would be."""
    api_client = k8s_config.new_client_from_config_dict(yaml.safe_load(kube_emulator.kubeconfig()))
    yield api_client
    api_client.close()


@pytest.fixture
def kube_env(db, kube_emulator) -> KubeEnv:
    from targets.models import Target

    target = Target.objects.create(name="k8s", kind=Target.KUBERNETES, settings={
        "kubeconfig": kube_emulator.kubeconfig(), "request_timeout": 1.0})
    return KubeEnv(kube_emulator, SimulatedController(kube_emulator.store), target)


@pytest.fixture
def live_kube(kube_env):
    """`kube_env` as a live cluster whose pods run for real (tests/kube/podrunner): the StatefulSet
    controller, scheduler, kubelets, cluster DNS and Services run in the background, each pod in its own
    Linux namespaces on a private bridge. The target resolves pod names through the cluster DNS.
    Skipped (with the reason) where pods cannot run: they need root."""
    reason = unavailable()
    if reason:
        pytest.skip(reason)
    port = int(kube_env.emulator.url.rsplit(":", 1)[1])
    runner = PodRunner(kube_env.store, kube_env.controller, api_server=("127.0.0.1", port)).start()
    kube_env.target.settings = {**kube_env.target.settings, "dataplane_nameserver": runner.nameserver,
                                "request_timeout": 5.0}
    kube_env.target.save()
    try:
        yield runner
    finally:
        runner.stop()
