"""The last hour of samples and the firing alerts of each database, in the control plane's Redis.

Bounded: one list per database capped at `history_points()` entries (an hour at the sampling
interval), and both keys expire two hours after the last write, so a deleted database leaves nothing.
"""
from __future__ import annotations

import json

from django.conf import settings

from core.locks import redis_client

from .samples import Sample

HOUR = 3600
KEEP_SECONDS = 2 * HOUR


def history_points() -> int:
    return max(1, min(720, HOUR // max(1, int(settings.CONTROLPLANE_SAMPLE_SECONDS))))


def _key(pk: int, what: str) -> str:
    return f"controlplane:metrics:database:{pk}:{what}"


def push(pk: int, sample: Sample) -> None:
    key = _key(pk, "samples")
    with redis_client().pipeline() as pipe:
        pipe.lpush(key, json.dumps(sample.as_dict()))
        pipe.ltrim(key, 0, history_points() - 1)
        pipe.expire(key, KEEP_SECONDS)
        pipe.execute()


def history(pk: int, since: float | None = None) -> list[Sample]:
    """Oldest first."""
    raw = redis_client().lrange(_key(pk, "samples"), 0, history_points() - 1)
    samples = [Sample.from_dict(json.loads(item)) for item in reversed(raw)]
    return [s for s in samples if since is None or s.t >= since]


def latest(pk: int) -> Sample | None:
    raw = redis_client().lindex(_key(pk, "samples"), 0)
    return Sample.from_dict(json.loads(raw)) if raw else None


def firing(pk: int) -> dict[str, dict]:
    raw = redis_client().get(_key(pk, "alerts"))
    return json.loads(raw) if raw else {}


def set_firing(pk: int, alerts: dict[str, dict]) -> None:
    redis_client().set(_key(pk, "alerts"), json.dumps(alerts), ex=KEEP_SECONDS)


def forget(pk: int) -> None:
    redis_client().delete(_key(pk, "samples"), _key(pk, "alerts"))
