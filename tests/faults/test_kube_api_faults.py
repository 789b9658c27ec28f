"""Kubernetes API faults the reconciler must ride out: throttling (429 with Retry-After).

500s, 409s and a hang past the request timeout are proven in tests/kube/test_resilience.py; each test
here shows the fault in words in the status, keeps the desired spec, and converges once it clears.
"""
from __future__ import annotations

import pytest

from core.errors import TargetError
from engine.reconcile import reconcile, reconcile_until_settled
from engine.tasks import backoff_seconds, retry_countdown
from kube.client import retry_after_seconds
from targets import managed
from tests.kube.test_lifecycle import make_cluster

pytestmark = pytest.mark.django_db(transaction=True)


def test_throttled_api_shows_in_words_keeps_the_spec_and_converges(kube_env):
    cluster = make_cluster(kube_env)
    spec_before, generation = dict(cluster.spec), cluster.generation
    kube_env.inject(status=429, count=1000, retry_after=7)
    with pytest.raises(TargetError) as caught:
        reconcile("cluster", cluster.pk)
    assert caught.value.retry_after == 7
    cluster.refresh_from_db()
    assert cluster.state == managed.ERROR
    message = cluster.status["conditions"][0]["message"]
    assert "throttling" in message and "retry after 7 s" in message
    assert cluster.spec == spec_before and cluster.generation == generation

    kube_env.emulator.clear_faults()
    kube_env.auto_settle()
    outcome = reconcile_until_settled("cluster", cluster.pk, timeout=20, interval=0.05)
    cluster.refresh_from_db()
    assert outcome.state == managed.RUNNING and cluster.spec == spec_before
    assert cluster.status["observedGeneration"] == generation


def test_a_worker_waits_at_least_as_long_as_the_api_asked():
    throttled = TargetError("throttled", retry_after=60)
    assert retry_countdown(0, throttled) == 60
    assert retry_countdown(8, throttled) == backoff_seconds(8) == 300  # never shorter than the backoff
    assert retry_countdown(0, TargetError("down")) == backoff_seconds(0)


@pytest.mark.parametrize("header, seconds", [("5", 5), ("0", 1), ("99999", 300), ("soon", None), ("", None),
                                             ("Wed, 21 Oct 2015 07:28:00 GMT", None)])
def test_retry_after_is_read_in_bounds(header, seconds):
    assert retry_after_seconds({"Retry-After": header}) == seconds
