"""How the dashboard shows an object's state: one pure function of the streamed payload.

Templates (first render), the websocket consumer (live updates) and the state endpoint (refetch
after a reconnect) all call `summarize`, so a badge looks the same however it got to the page.
"""
from __future__ import annotations

import re

from targets import managed
from targets.quantity import format_memory

# Tone of a state: "ok" (green), "busy" (blue, something is happening), "bad" (red). Always shown
# together with the state word and a symbol, never colour alone.
TONES = {
    managed.RUNNING: "ok",
    managed.DB_ACTIVE: "ok",
    managed.PENDING_CREATION: "busy",
    managed.INITIALIZING: "busy",
    managed.DB_PENDING: "busy",
    managed.DB_CHANGE_PENDING: "busy",
    managed.DB_DELETE_PENDING: "busy",
    managed.DB_RECOVERY: "busy",
    managed.ERROR: "bad",
    managed.INVALID: "bad",
    managed.DB_CREATION_FAILED: "bad",
}
SYMBOLS = {"ok": "●", "busy": "◐", "bad": "✕"}
# What a freshly created object shows before its first reconcile.
INITIAL_STATE = {"cluster": managed.PENDING_CREATION, "database": managed.DB_PENDING}

_FRACTION = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def summarize(payload: dict) -> dict:
    """Display fields of a cluster or database payload (see `timeline.broadcast.object_payload`)."""
    status = payload.get("status") or {}
    spec = payload.get("spec") or {}
    state = status.get("state") or INITIAL_STATE[payload["kind"]]
    tone = TONES.get(state, "busy")
    generation = int(payload.get("generation") or 0)
    observed = int(status.get("observedGeneration") or 0)
    done, total = _rollout(status)
    return {
        "key": f"{payload['kind']}-{payload['id']}",
        "state": state,
        "tone": tone,
        "symbol": SYMBOLS[tone],
        "version": status.get("version") or spec.get("redisVersion") or "target default",
        "specStatus": status.get("specStatus") or "Valid",
        "generation": generation,
        "observedGeneration": observed,
        "progress": _progress(payload, status, state, generation, observed),
        "progressDone": done,
        "progressTotal": total,
        "deleting": bool(payload.get("deleting")),
        "deleted": bool(payload.get("deleted")),
    }


def _rollout(status: dict) -> tuple[int | None, int | None]:
    """A driver may report a rolling operation as "2/3" (pods done / pods in total)."""
    match = _FRACTION.match(str(status.get("rollout") or ""))
    if not match:
        return None, None
    return int(match.group(1)), int(match.group(2))


def _progress(payload: dict, status: dict, state: str, generation: int, observed: int) -> str:
    """One line saying what is happening right now, or "" when the object is settled."""
    message = _waiting_message(status)
    if payload.get("deleted"):
        return "Removed."
    if payload.get("deleting"):
        return f"Deleting: {message}" if message else "Deleting."
    parts = []
    if status.get("rollout"):
        parts.append(f"Rolling out {status['rollout']} pods")
    if generation > observed and TONES.get(state) != "bad":
        parts.append(f"Applying generation {generation} (observed {observed})")
    if TONES.get(state, "busy") != "ok" and message:
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
