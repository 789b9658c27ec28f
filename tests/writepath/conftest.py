"""Fixtures for the write path: the local target offering two Redis versions, and example specs."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

EXAMPLE_REC_SPEC = {
    "nodes": 3,
    "persistentSpec": {"enabled": True, "storageClassName": "standard", "volumeSize": "20Gi"},
    "redisEnterpriseNodeResources": {"limits": {"cpu": "2", "memory": "4Gi"},
                                     "requests": {"cpu": "2", "memory": "4Gi"}},
}


@pytest.fixture
def versions(settings):
    """Two versions backed by the one redis-server installed, so upgrades and downgrades can be tested."""
    bindir = str(Path(shutil.which("redis-server")).parent)
    settings.CONTROLPLANE_LOCAL_REDIS_VERSIONS = {"7.0": bindir, "7.2": bindir}
    return ["7.0", "7.2"]


@pytest.fixture
def local_target(db, versions):
    from targets.models import Target

    return Target.default()


@pytest.fixture
def rec_spec():
    import copy

    return copy.deepcopy(EXAMPLE_REC_SPEC)


@pytest.fixture
def cluster(local_target, rec_spec):
    from clusters.services import create_cluster

    return create_cluster(name="rec", spec=rec_spec, actor="test").obj


def errors_of(call, *args, **kwargs) -> dict[str, list[str]]:
    """The field errors a write raises (fails the test if it raises none)."""
    from core.errors import SpecError

    with pytest.raises(SpecError) as info:
        call(*args, **kwargs)
    return info.value.errors
