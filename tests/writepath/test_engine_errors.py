"""The engine tells a bug from an outage (issue #9): a driver's own bug is an InternalError with its type,
its traceback logged once; a target that fails is a TargetError. Both show as status `Error`."""
from __future__ import annotations

import logging

import pytest

from core.drivers import Happening, Observation, kept_on_failure, register_driver
from core.errors import InternalError, TargetError
from engine.reconcile import reconcile
from engine.sweep import reconcile_everything
from engine.tasks import MAX_INTERNAL_RETRIES, backoff_seconds

FAILURES: dict[str, Exception] = {}


@register_driver("failing-for-tests")
class FailingDriver:
    """A target whose apply raises whatever the test puts in FAILURES."""

    def __init__(self, target):
        self.target = target

    def redis_versions(self) -> list[str]:
        return ["7.2"]

    def apply_cluster(self, cluster) -> Observation:
        if cluster.name in FAILURES:
            raise FAILURES[cluster.name]
        return Observation(state="Running")

    def batch(self):
        import contextlib

        return contextlib.nullcontext()

    def mirror(self, obj) -> None:
        """No copy of its own to keep in step (as the local target)."""


@pytest.fixture
def failing_cluster(db):
    from clusters.models import Cluster
    from targets.models import Target

    target = Target.objects.create(name="failing", kind="failing-for-tests", settings={})
    return Cluster.objects.create(name="buggy", target=target, namespace="buggy",
                                  spec={"nodes": 1, "redisEnterpriseImageSpec": {"versionTag": "7.2"}})


def ready_condition(cluster) -> dict:
    cluster.refresh_from_db()
    return next(c for c in cluster.status["conditions"] if c["type"] == "Ready")


def test_a_driver_bug_is_an_internal_error_logged_once_with_its_traceback(failing_cluster, caplog):
    FAILURES["buggy"] = KeyError("shard")
    caplog.set_level(logging.WARNING, logger="engine.reconcile")
    for _ in range(3):
        with pytest.raises(InternalError, match="KeyError"):
            reconcile("cluster", failing_cluster.pk)
    condition = ready_condition(failing_cluster)
    assert failing_cluster.state == "Error"
    assert condition["reason"] == "InternalError" and condition["message"] == "KeyError: 'shard'"
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 1 and "internal error" in tracebacks[0].getMessage()

    FAILURES.pop("buggy")
    assert reconcile("cluster", failing_cluster.pk).state == "Running"


def test_an_unreachable_target_is_a_target_error(failing_cluster):
    FAILURES["buggy"] = ConnectionRefusedError("connection refused")
    with pytest.raises(TargetError):
        reconcile("cluster", failing_cluster.pk)
    condition = ready_condition(failing_cluster)
    assert condition["reason"] == "TargetError" and "ConnectionRefusedError" in condition["message"]
    FAILURES.pop("buggy")


def test_what_a_failing_pass_did_before_its_error_still_reaches_the_timeline(failing_cluster):
    """A pass that relinked replicas and then hit a taken port: the relink is in the timeline next to the error."""
    from timeline.models import Event

    with pytest.raises(TargetError) as failed:
        with kept_on_failure([Happening("ReplicationRelinked", "secure-1 now replicates over TLS")]) as happenings:
            happenings += [Happening("SentinelGroupChanged", "handed to the TLS sentinel group")]
            raise TargetError("exporter port 19100 is taken by another program")
    assert [h.reason for h in failed.value.happenings] == ["ReplicationRelinked", "SentinelGroupChanged"]
    FAILURES["buggy"] = failed.value
    with pytest.raises(TargetError):
        reconcile("cluster", failing_cluster.pk)
    assert failing_cluster.__class__.objects.get(pk=failing_cluster.pk).state == "Error"
    reasons = list(Event.objects.filter(object_kind="cluster", object_id=failing_cluster.pk)
                   .values_list("reason", flat=True))
    assert {"ReplicationRelinked", "SentinelGroupChanged", "StateChanged"} <= set(reasons)
    FAILURES.pop("buggy")


def test_the_periodic_pass_counts_a_bug_and_goes_on(failing_cluster, local_target):
    from clusters.models import Cluster

    FAILURES["buggy"] = TypeError("bad operand")
    healthy = Cluster.objects.create(name="fine", target=failing_cluster.target, namespace="fine",
                                     spec={"nodes": 1, "redisEnterpriseImageSpec": {"versionTag": "7.2"}})
    counts = reconcile_everything()
    assert counts["errors"] == 1 and counts["clusters"] == 1
    healthy.refresh_from_db()
    assert healthy.state == "Running"
    FAILURES.pop("buggy")


def test_internal_errors_are_retried_a_few_times_with_capped_backoff():
    waits = [backoff_seconds(retry) for retry in range(MAX_INTERNAL_RETRIES)]
    assert waits == sorted(waits) and max(waits) <= 300 and sum(waits) < 120
