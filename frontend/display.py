"""How the dashboard shows an object's state: one pure function of the streamed payload.

Templates (first render), the websocket consumer (live updates) and the state endpoint (refetch
after a reconnect) all call `summarize`, so a badge looks the same however it got to the page.
"""
from __future__ import annotations

import re

from core import kinds
from core.quantity import format_memory

# Each state's tone ("ok" green, "busy" blue, "bad" red) is defined with the word in its kind's
# StatusSet (targets/managed.py). Always shown together with the word and a symbol, never colour alone.
SYMBOLS = {"ok": "●", "busy": "◐", "bad": "✕"}

_FRACTION = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def summarize(payload: dict) -> dict:
    """Display fields of a cluster or database payload (see `timeline.broadcast.object_payload`)."""
    status = payload.get("status") or {}
    spec = payload.get("spec") or {}
    statuses = kinds.get(payload["kind"]).statuses
    state = status.get("state") or statuses.initial  # before the first reconcile
    tone = statuses.tone(state)
    generation = int(payload.get("generation") or 0)
    observed = int(status.get("observedGeneration") or 0)
    done, total, what = _fraction(status, spec)
    return {
        "key": f"{payload['kind']}-{payload['id']}",
        "state": state,
        "tone": tone,
        "symbol": SYMBOLS[tone],
        "version": status.get("redisVersion") or status.get("version") or spec.get("redisVersion")
        or "target default",
        "specStatus": status.get("specStatus") or "Valid",
        "generation": generation,
        "observedGeneration": observed,
        "progress": _progress(payload, status, tone, generation, observed, (done, total, what)),
        "progressDone": done,
        "progressTotal": total,
        "deleting": bool(payload.get("deleting")),
        "deleted": bool(payload.get("deleted")),
    }


def _fraction(status: dict, spec: dict) -> tuple[int | None, int | None, str]:
    """How far a rolling operation got, as (done, total): pods ready ("nodes"/"shards": "2/3", Kubernetes)
    or processes already on the desired version (per-process "version", local target), or slots moved
    while a sharded database reshards ("resharding")."""
    resharding = status.get("resharding")
    if isinstance(resharding, dict) and resharding.get("slotsTotal"):
        return (int(resharding.get("slotsMoved") or 0), int(resharding["slotsTotal"]),
                f"slots moved ({int(resharding.get('keysMoved') or 0):,} of "
                f"{int(resharding.get('keysTotal') or 0):,} keys) to reach {resharding.get('shards')} shards")
    for key in ("shards", "nodes"):
        match = _FRACTION.match(str(status.get(key) or ""))
        if match and match.group(1) != match.group(2):
            return int(match.group(1)), int(match.group(2)), "ready"
    processes = status.get("processes")
    wanted = spec.get("redisVersion")
    if isinstance(processes, dict) and processes and wanted:
        versions = [p.get("version") for p in processes.values() if isinstance(p, dict)]
        done = sum(1 for version in versions if version == wanted)
        if versions and done < len(versions):
            return done, len(versions), f"on Redis {wanted}"
    return None, None, ""


def _progress(payload: dict, status: dict, tone: str, generation: int, observed: int,
              fraction: tuple[int | None, int | None, str]) -> str:
    """One line saying what is happening right now, or "" when the object is settled."""
    message = _waiting_message(status)
    if payload.get("deleted"):
        return "Removed."
    if payload.get("deleting"):
        return f"Deleting: {message}" if message else "Deleting."
    parts = []
    rollout = str(status.get("rollout") or "")
    if rollout and rollout != "done":
        parts.append(f"Rollout: {rollout}")
    done, total, what = fraction
    if total:
        parts.append(f"{done} of {total} {what}")
    if generation > observed and tone != "bad":
        parts.append(f"Applying generation {generation} (observed {observed})")
    if tone != "ok" and message:
        parts.append(message)
    return "; ".join(parts)


def _waiting_message(status: dict) -> str:
    for condition in status.get("conditions") or []:
        if condition.get("status") != "True" and condition.get("message"):
            return condition["message"]
    return ""


def capacity(capacity_bytes: int, used_bytes: int) -> dict:
    """Used/free memory of a cluster, for the capacity meter."""
    free = max(capacity_bytes - used_bytes, 0)
    return {
        "total": format_memory(capacity_bytes),
        "used": format_memory(used_bytes),
        "free": format_memory(free),
        "used_bytes": used_bytes,
        "total_bytes": capacity_bytes,
        "percent": round(100 * used_bytes / capacity_bytes) if capacity_bytes else 0,
    }
