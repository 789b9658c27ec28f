"""The reconcile contract (docs/architecture.md, "The reconcile path"), shared by every kind and target.

lock -> load -> (delete | check the stored spec can be realised -> driver applies and observes)
-> write status only if it changed -> events -> publish. Drivers never write status themselves.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core import kinds
from core.drivers import Condition, Observation, driver_for, now_iso
from core.errors import OUTAGES, InternalError, SpecNotRealisable, TargetError
from core.locks import LockBusy, object_lock
from core.metrics import reconcile_timer
from targets import managed
from timeline.broadcast import publish_status
from timeline.models import Event
from timeline.record import record_event

log = logging.getLogger(__name__)

# Condition reasons of status `Error`: the target failed (an outage, retried), or the code did (a bug).
TARGET_ERROR = "TargetError"
INTERNAL_ERROR = "InternalError"


@dataclass
class Outcome:
    state: str
    settled: bool
    gone: bool = False
    error: str = ""


def load(kind: str, pk: int):
    return kinds.get(kind).queryset().filter(pk=pk).first()


def reconcile(kind: str, pk: int, *, lock_wait: float = 30) -> Outcome:
    """Bring one object one step closer to its spec and record what is there. Idempotent.

    Raises TargetError or InternalError (after recording status `Error`) so the caller can retry with backoff.
    """
    with reconcile_timer(kind, LockBusy), object_lock(kind, pk, wait=lock_wait):
        obj = load(kind, pk)
        if obj is None:
            return Outcome(state="", settled=True, gone=True)
        driver = driver_for(obj.target)
        if obj.deletion_requested_at is not None:
            return _reconcile_deletion(obj, driver)
        generation = obj.generation
        try:
            observation = _apply(obj, driver)
        except SpecNotRealisable as exc:
            observation = Observation(
                state=managed.INVALID,
                conditions=[Condition("SpecValid", "False", "NotRealisable", str(exc))],
                details={"specStatus": "Invalid"},
            )
        except TargetError as exc:
            _write_error(obj, generation, str(exc), happenings=exc.happenings)
            raise
        except OUTAGES as exc:
            message = f"{type(exc).__name__}: {exc}"
            _write_error(obj, generation, message)
            raise TargetError(message) from exc
        except Exception as exc:
            raise _internal_error(obj, generation, exc) from exc
        write_status(obj, observation, generation)
        driver.mirror(obj)
        return Outcome(state=observation.state, settled=observation.settled)


def _apply(obj, driver) -> Observation:
    kind = kinds.of(obj)
    problems = kind.stored_problems(obj, driver)
    if problems:
        raise SpecNotRealisable("; ".join(problems))
    waiting = kind.precondition(obj) if kind.precondition else None
    return waiting or kind.apply(driver, obj)


def _reconcile_deletion(obj, driver) -> Outcome:
    kind = kinds.of(obj)
    blocker = kind.deletion_blocker(obj) if kind.deletion_blocker else ""
    if blocker:
        write_status(obj, Observation(state=obj.state or kind.statuses.initial, conditions=[
            Condition("Deleting", "True", "WaitingForDatabases", blocker)], settled=False), obj.generation)
        driver.mirror(obj)
        return Outcome(state=obj.state, settled=False)
    try:
        done = kind.delete(driver, obj)
    except TargetError as exc:
        _write_error(obj, obj.generation, f"deletion failed: {exc}")
        raise
    except Exception as exc:
        raise _internal_error(obj, obj.generation, exc) from exc
    if not done:
        deleting_state = kind.statuses.deleting or obj.state
        write_status(obj, Observation(state=deleting_state, conditions=[
            Condition("Deleting", "True", "RemovingObjects", "removing what this object created")],
            settled=False), obj.generation)
        driver.mirror(obj)
        return Outcome(state=deleting_state, settled=False)
    with transaction.atomic():
        kept = "" if obj.delete_data else " (data kept)"
        record_event(obj, "Deleted", f"{obj.kind} {obj.name} removed{kept}")
        publish_status(obj, deleted=True)
        obj.delete()
    driver.mirror(obj)  # the row is gone: the custom resource goes too
    return Outcome(state="", settled=True, gone=True)


def _internal_error(obj, generation: int, exc: Exception) -> InternalError:
    """A bug, not an outage: status `Error` naming the exception's type; the traceback logged once."""
    message = f"{type(exc).__name__}: {exc}"
    if _first_message(obj.status or {}) != message:
        log.error("reconcile of %s %s failed: internal error", obj.kind, obj.name, exc_info=exc)
    else:
        log.warning("reconcile of %s %s failed again: %s", obj.kind, obj.name, message)
    _write_error(obj, generation, message, reason=INTERNAL_ERROR)
    return InternalError(message)


def _write_error(obj, generation: int, message: str, *, reason: str = TARGET_ERROR,
                 happenings: list | None = None) -> None:
    write_status(obj, Observation(
        state=managed.ERROR,
        conditions=[Condition("Ready", "False", reason, message)],
        settled=False,
        happenings=list(happenings or []),
    ), generation, error=True)


def _merge_conditions(old: list[dict], new: list[Condition]) -> list[dict]:
    """Keep lastTransitionTime when a condition's status did not change."""
    previous = {c.get("type"): c for c in old or []}
    merged = []
    for condition in new:
        entry = condition.as_dict()
        before = previous.get(condition.type)
        if before and before.get("status") == condition.status:
            entry["lastTransitionTime"] = before.get("lastTransitionTime") or now_iso()
        else:
            entry["lastTransitionTime"] = now_iso()
        merged.append(entry)
    return merged


# Status fields the reconciler does not observe but keeps: status.backupInfo, status.replicaSourceStatus (backups/).
CARRIED_STATUS_KEYS = ("backupInfo", "replicaSourceStatus")


def write_status(obj, observation: Observation, generation: int, *, error: bool = False) -> bool:
    """Store the observed status if it differs from the stored one; True when something was written."""
    old = obj.status or {}
    status = {
        "state": observation.state,
        "specStatus": "Valid",
        "observedGeneration": generation if not error else old.get("observedGeneration", 0),
        "conditions": _merge_conditions(old.get("conditions", []), observation.conditions),
    }
    status.update(observation.details)
    for key in CARRIED_STATUS_KEYS:  # written by others under the same lock (backups/services.py)
        if key in old:
            status[key] = old[key]
    if observation.state == kinds.of(obj).statuses.running or old.get("everRunning"):
        status["everRunning"] = True
    comparable_old = {k: v for k, v in old.items() if k != "lastReconcileTime"}
    if _strip_times(comparable_old) == _strip_times(status) and not observation.happenings:
        return False
    status["lastReconcileTime"] = now_iso()
    with transaction.atomic():
        type(obj).objects.filter(pk=obj.pk).update(status=status, updated_at=timezone.now())
        obj.status = status
        for happening in observation.happenings:
            record_event(obj, happening.reason, happening.message,
                         type=Event.WARNING if happening.warning else Event.NORMAL)
        if old.get("state") != status["state"]:
            message = _transition_message(old.get("state"), status, kinds.of(obj).statuses)
            log.info("%s %s: %s", obj.kind, obj.name, message)
            record_event(obj, "StateChanged", message,
                         type=Event.WARNING if status["state"] in (managed.ERROR, managed.INVALID) else Event.NORMAL)
        elif error and _first_message(old) != _first_message(status):
            record_event(obj, "ReconcileFailed", _first_message(status), type=Event.WARNING)
        publish_status(obj)
    return True


def _strip_times(status: dict) -> dict:
    clean = dict(status)
    clean["conditions"] = [{k: v for k, v in c.items() if k != "lastTransitionTime"}
                           for c in status.get("conditions", [])]
    return clean


def _first_message(status: dict) -> str:
    """The message that explains the state: a failing condition's first, else any condition's."""
    conditions = status.get("conditions", [])
    failing = [c for c in conditions if c.get("status") != "True" and c.get("message")]
    for condition in failing or conditions:
        if condition.get("message"):
            return condition["message"]
    return ""


def _transition_message(before: str | None, status: dict, statuses: kinds.StatusSet) -> str:
    message = f"{before or 'new'} -> {status['state']}"
    reason = _first_message(status)
    return f"{message}: {reason}" if reason and status["state"] != statuses.running else message


def reconcile_until_settled(kind: str, pk: int, *, timeout: float = 120, interval: float | None = None) -> Outcome:
    """Reconcile one object in the foreground until it settles (or is gone) or `timeout` passes."""
    return reconcile_all_until_settled([(kind, pk)], timeout=timeout, interval=interval)[0]


def reconcile_all_until_settled(objects: list[tuple[str, int]], *, timeout: float = 120,
                                interval: float | None = None) -> list[Outcome]:
    """Reconcile `(kind, pk)` objects in rounds, each unsettled one once a round, until all settle or `timeout`;
    `interval` seconds between rounds (default: the CONTROLPLANE_WAIT_INTERVAL setting).

    Rounds, not one object to the end: a cluster being deleted waits for its databases to go, and a new
    database for its cluster to run, so either order would wait on an object never reconciled.
    Outcomes in the order given.
    """
    deadline = time.monotonic() + timeout
    interval = settings.CONTROLPLANE_WAIT_INTERVAL if interval is None else interval
    outcomes: dict[tuple[str, int], Outcome] = {}
    pending = list(dict.fromkeys(objects))
    while True:
        for kind, pk in pending:
            outcomes[kind, pk] = _attempt(kind, pk, lock_wait=max(min(30.0, deadline - time.monotonic()), 0.0))
        pending = [key for key in pending if not outcomes[key].settled]
        if not pending or time.monotonic() >= deadline:
            return [outcomes[key] for key in objects]
        time.sleep(interval)


def _attempt(kind: str, pk: int, *, lock_wait: float) -> Outcome:
    """One reconcile; a failure or a lock held elsewhere is an unsettled outcome to retry, not an exception."""
    try:
        return reconcile(kind, pk, lock_wait=lock_wait)
    except (TargetError, InternalError) as exc:
        return Outcome(state=managed.ERROR, settled=False, error=str(exc))
    except LockBusy as exc:
        return Outcome(state="", settled=False, error=str(exc))
