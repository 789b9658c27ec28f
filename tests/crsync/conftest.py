"""A Kubernetes target on the API server emulator with the REC/REDB CRDs installed."""
from __future__ import annotations

import pytest

from tests.kube.conftest import kube_emulator, kube_env, live_kube  # noqa: F401


@pytest.fixture
def crd_env(kube_env):  # noqa: F811
    from core.drivers import driver_for

    # The CRDs are large documents: their server-side apply takes longer than the 1 s other tests allow.
    kube_env.target.settings["request_timeout"] = 10.0
    kube_env.target.save(update_fields=["settings"])
    assert driver_for(kube_env.target).install_definitions() == []
    driver_for(kube_env.target).api.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "redis"}})
    kube_env.auto_settle()
    return kube_env
