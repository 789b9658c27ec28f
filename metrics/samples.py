"""One point of a database's charts, made from its INFO (pure: no Redis here, see sampler.py)."""
from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Sample:
    t: float                       # unix seconds
    ops_per_sec: float
    used_memory: int               # bytes
    maxmemory: int                 # bytes; 0 = no limit
    clients: int
    keys: int
    hit_ratio: float | None        # hits / lookups in the interval since the previous sample; None: no lookups
    replication_lag: float | None  # seconds, the slowest replica; None: no replica
    latency_usec: float | None     # server time per command in the interval; None: no command
    # counters the next sample's rates are computed from
    hits: int = 0
    misses: int = 0
    calls: int = 0
    usec: int = 0

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Sample:
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__})

    @property
    def memory_percent(self) -> float | None:
        return 100.0 * self.used_memory / self.maxmemory if self.maxmemory else None


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None


def sample_from_info(info: dict, t: float, previous: Sample | None = None) -> Sample:
    """A sample from `INFO all` as redis-py parses it; rates over the interval since `previous`
    (counters that went backwards — a restart — count from zero)."""
    hits, misses = int(info.get("keyspace_hits", 0)), int(info.get("keyspace_misses", 0))
    stats = [v for k, v in info.items() if k.startswith("cmdstat_") and isinstance(v, dict)]
    calls = sum(int(s.get("calls", 0)) for s in stats)
    usec = sum(int(s.get("usec", 0)) for s in stats)
    keys = sum(int(v.get("keys", 0)) for k, v in info.items()
               if k.startswith("db") and k[2:].isdigit() and isinstance(v, dict))
    lags = [float(v["lag"]) for k, v in info.items()
            if k.startswith("slave") and k[5:].isdigit() and isinstance(v, dict) and "lag" in v]

    def delta(now: int, before: int) -> int:
        return now - before if previous is not None and now >= before else now

    d_hits = delta(hits, previous.hits if previous else 0)
    d_misses = delta(misses, previous.misses if previous else 0)
    d_calls = delta(calls, previous.calls if previous else 0)
    d_usec = delta(usec, previous.usec if previous else 0)
    return Sample(
        t=t,
        ops_per_sec=float(info.get("instantaneous_ops_per_sec", 0)),
        used_memory=int(info.get("used_memory", 0)),
        maxmemory=int(info.get("maxmemory", 0)),
        clients=int(info.get("connected_clients", 0)),
        keys=keys,
        hit_ratio=_ratio(d_hits, d_hits + d_misses),
        replication_lag=max(lags) if lags else None,
        latency_usec=_ratio(d_usec, d_calls),
        hits=hits, misses=misses, calls=calls, usec=usec,
    )
