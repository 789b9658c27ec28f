"""The sampling pass runs once at a time across workers."""
from __future__ import annotations

from core.locks import redis_client
from metrics.sampler import sample_everything


def test_a_pass_while_another_runs_is_skipped(db):
    held = redis_client().lock("controlplane:metrics:sampling", timeout=30)
    assert held.acquire(blocking=False)
    try:
        assert sample_everything() == {"skipped": 1}
    finally:
        held.release()
    assert sample_everything() == {"sampled": 0, "unreachable": 0}
