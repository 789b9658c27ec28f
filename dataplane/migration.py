"""Moving hash slots with their keys between masters: batched, resumable, with progress.

Two engines behind one call, `SlotMover.move`:

- atomic (Valkey >= 9, `CLUSTER MIGRATESLOTS`): the source streams whole slot ranges to the target and
  hands them over at once; the server runs it, so a killed worker leaves a job Valkey finishes by itself
  (`settle_atomic` waits for such jobs before anything is planned again).
- classic (Redis): per batch of slots one pipeline of `SETSLOT IMPORTING` to the target, one of
  `SETSLOT MIGRATING` to the source, pipelined `GETKEYSINSLOT` + `MIGRATE ... KEYS` (one per slot:
  MIGRATE refuses keys of several slots) until every slot of the batch is empty on the source, then
  `SETSLOT NODE` pipelined to the target first (with one epoch bump and one broadcast for the whole batch,
  `take_over_commands`, which tells every other node), then to the source. Keys written
  during the move stay safe: a key still on the source is written there and moved later; a new key is
  redirected (ASK) to the target. Every step is idempotent, so `open_moves` (slots left MIGRATING or
  IMPORTING by a killed worker) are finished with the same call.

The callers own the connections: `dial(node)` returns a redis client for a node of `CLUSTER NODES`.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass

import redis

from core.errors import TargetError

from .cluster import Node, myself, parse_nodes
from .slots import plan_moves

PARALLEL_MOVES = 4  # classic moves run side by side: each has its own slots, so they are independent
BATCH_SLOTS = 1024  # slots per classic round (one pipeline per step)
KEYS_PER_CALL = 1000  # GETKEYSINSLOT count, so MIGRATE ... KEYS carries up to this many keys
MIGRATE_TIMEOUT_MS = 10000
MAX_DRAIN_ROUNDS = 10000  # a slot that never empties (a writer outrunning MIGRATE) stops with an error
ATOMIC_TIMEOUT = 600.0
ATOMIC_DONE = {"success", "failed", "cancelled"}
# SETSLOT errors that mean "this step is already done" when a move is finished after a crash.
_DONE_ALREADY = ("already the owner", "not the owner")
# A master whose last slot left becomes a replica of the receiver (cluster-allow-replica-migration); it
# then refuses SETSLOT and follows its new master's view instead.
_NOW_A_REPLICA = ("only with masters",)

ATOMIC = "CLUSTER MIGRATESLOTS"
BATCHED = "batched MIGRATE"

Dial = Callable[[Node], redis.Redis]
Progress = Callable[[int, int], None]  # (slots moved in this call so far, keys moved so far)
# (slots moved, slots to move, keys moved, keys to move) while a reshard runs
ReshardProgress = Callable[[int, int, int, int], None]


def batches(slots: Iterable[int], size: int = BATCH_SLOTS) -> list[tuple[int, ...]]:
    """Sorted slots cut into batches of at most `size`."""
    ordered = sorted(set(slots))
    return [tuple(ordered[i:i + size]) for i in range(0, len(ordered), max(size, 1))]


def ranges(slots: Iterable[int]) -> list[tuple[int, int]]:
    """Slots as inclusive contiguous ranges: [1, 2, 3, 7] -> [(1, 3), (7, 7)]."""
    out: list[tuple[int, int]] = []
    for slot in sorted(set(slots)):
        if out and slot == out[-1][1] + 1:
            out[-1] = (out[-1][0], slot)
        else:
            out.append((slot, slot))
    return out


@dataclass(frozen=True)
class OpenMove:
    """Slots a crashed move left open, from `source_id` to `target_id`."""
    source_id: str
    target_id: str
    slots: tuple[int, ...]


def open_moves(selves: Iterable[Node]) -> list[OpenMove]:
    """Open slots from each master's own view (`myself` lines): MIGRATING on a source, IMPORTING on a target."""
    pairs: dict[int, tuple[str, str]] = {}
    for node in selves:
        for slot, target in node.migrating.items():
            pairs[slot] = (node.id, target)
        for slot, source in node.importing.items():
            pairs.setdefault(slot, (source, node.id))
    grouped: dict[tuple[str, str], list[int]] = {}
    for slot, pair in pairs.items():
        grouped.setdefault(pair, []).append(slot)
    return [OpenMove(s, t, tuple(sorted(slots))) for (s, t), slots in sorted(grouped.items())]


def supports_atomic(conn: redis.Redis) -> bool:
    """Whether the server offers atomic slot migration (Valkey 9: CLUSTER MIGRATESLOTS/GETSLOTMIGRATIONS)."""
    try:
        conn.execute_command("CLUSTER", "GETSLOTMIGRATIONS")
        return True
    except redis.ResponseError:
        return False


def keys_in(conn: redis.Redis, slots: Iterable[int]) -> int:
    """How many keys the node holds in these slots (one pipeline of COUNTKEYSINSLOT)."""
    return sum(int(n) for n in _raising(run_all(conn, [("CLUSTER", "COUNTKEYSINSLOT", slot) for slot in slots])))


def run_all(conn: redis.Redis, commands: Sequence[tuple[object, ...]]) -> list[object]:
    """Send `commands` in one write and read every reply, an error reply as its exception in place: a pipeline
    without redis-py's per-command bookkeeping, which was a third of the CPU a reshard cost (tens of thousands
    of commands, every one per slot)."""
    if not commands:
        return []
    pool = conn.connection_pool
    connection = pool.get_connection()
    try:
        connection.send_packed_command(connection.pack_commands(commands), check_health=False)
        replies: list[object] = []
        for _ in commands:
            try:
                replies.append(connection.read_response())
            except redis.ResponseError as exc:
                replies.append(exc)
        return replies
    except BaseException:
        connection.disconnect()  # replies may be left unread: never hand this connection out again as it is
        raise
    finally:
        pool.release(connection)


def _raising(replies: list[object], tolerate: tuple[str, ...] = ()) -> list[object]:
    """The replies, the first error not `tolerate`d raised."""
    for reply in replies:
        if isinstance(reply, Exception) and not any(words in str(reply) for words in tolerate):
            raise reply
    return replies


class SlotMover:
    """Moves slots between masters of one cluster; `auth` is the password MIGRATE presents to the target, as
    the ACL user `auth_user` (AUTH2) where the default user is off."""

    def __init__(self, dial: Dial, *, auth: str | None = None, atomic: bool | None = None,
                 batch_slots: int = BATCH_SLOTS, keys_per_call: int = KEYS_PER_CALL, auth_user: str | None = None,
                 migrate_port: Callable[[Node], int] | None = None):
        self.dial, self.auth, self.auth_user = dial, auth, auth_user
        # MIGRATE connects the way the bus does: to the TLS port on a cluster with tls-cluster yes.
        self.migrate_port = migrate_port or (lambda node: node.port)
        self.atomic, self.batch_slots, self.keys_per_call = atomic, batch_slots, keys_per_call
        self.engines_used: set[str] = set()  # "atomic" / "batched": what moved the slots, for the event

    def move_all(self, moves: list[tuple[Node, Node, tuple[int, ...]]], progress: Progress | None = None) -> int:
        """Every (source, target, slots) move; returns the keys moved. Classic moves run side by side (a move's
        slots are its own); atomic ones one after another (Valkey runs each job itself). `progress` is called
        from this thread only, with the sums, so a caller may write to its database from it."""
        if not moves:
            return 0
        if self.atomic is None:
            self.atomic = supports_atomic(self.dial(moves[0][0]))
        slots_done, keys_done = [0] * len(moves), [0] * len(moves)

        def run(index: int, source: Node, target: Node, slots: tuple[int, ...]) -> int:
            def step(slots_moved: int, keys_moved: int) -> None:
                slots_done[index], keys_done[index] = slots_moved, keys_moved
            return self.move(source, target, slots, step)

        workers = 1 if self.atomic else min(PARALLEL_MOVES, len(moves))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="slot-move") as pool:
            futures = [pool.submit(run, i, *move) for i, move in enumerate(moves)]
            pending = set(futures)
            while pending:
                finished, pending = wait(pending, timeout=0.25, return_when=FIRST_EXCEPTION)
                if progress:
                    progress(sum(slots_done), sum(keys_done))
                if any(f.exception() for f in finished):
                    break  # the other moves end their current step; the first error is raised below
        return sum(f.result() for f in futures)

    def move(self, source: Node, target: Node, slots: Iterable[int], progress: Progress | None = None) -> int:
        """Move `slots` from `source` to `target`; returns the keys moved. Raises TargetError and stops on failure."""
        slots = sorted(set(slots))
        src = self.dial(source)
        atomic = supports_atomic(src) if self.atomic is None else self.atomic
        self.engines_used.add(ATOMIC if atomic else BATCHED)
        try:
            if atomic:
                return self._move_atomic(src, source, target, slots, progress)
            return self._move_classic(src, source, target, slots, progress)
        except redis.RedisError as exc:
            raise TargetError(f"moving slots from {_name(source)} to {_name(target)} stopped: {exc}") from exc

    # -- atomic (Valkey 9) --------------------------------------------------------------------------
    def _move_atomic(self, src: redis.Redis, source: Node, target: Node, slots: list[int],
                     progress: Progress | None) -> int:
        done_slots = moved = 0
        for batch in batches(slots, self.batch_slots * 4):
            keys = keys_in(src, batch)
            args: list[object] = ["SLOTSRANGE"]
            for first, last in ranges(batch):
                args += [first, last]
            started = time.time()
            src.execute_command("CLUSTER", "MIGRATESLOTS", *args, "NODE", target.id)
            _wait_atomic(src, target.id, started)
            _wait_handed_over(src, batch, f"{_name(source)} to let go of slots it exported to {_name(target)}")
            done_slots += len(batch)
            moved += keys
            if progress:
                progress(done_slots, moved)
        return moved

    # -- classic (IMPORTING/MIGRATING, MIGRATE, SETSLOT NODE) ---------------------------------------
    def _move_classic(self, src: redis.Redis, source: Node, target: Node, slots: list[int],
                      progress: Progress | None) -> int:
        dst = self.dial(target)
        done_slots = moved = 0
        for batch in batches(slots, self.batch_slots):
            _setslot_all(dst, batch, "IMPORTING", source.id)
            _setslot_all(src, batch, "MIGRATING", target.id)
            moved += self._drain(src, target, batch)
            _take_over(dst, batch, target.id)  # the target first: it owns the slots before the source lets go
            # The source next (a master left without slots may turn replica: replica migration). The other
            # masters learn from the target's broadcast at once (its bumped epoch outranks the source's).
            _setslot_all(src, batch, "NODE", target.id, tolerate=_NOW_A_REPLICA)
            done_slots += len(batch)
            if progress:
                progress(done_slots, moved)
        return moved

    def _drain(self, src: redis.Redis, target: Node, batch: tuple[int, ...]) -> int:
        """MIGRATE every key of the batch's slots to the target, until GETKEYSINSLOT finds none."""
        pending, moved = list(batch), 0
        auth = ["AUTH2", self.auth_user, self.auth] if self.auth and self.auth_user else \
            ["AUTH", self.auth] if self.auth else []
        for _ in range(MAX_DRAIN_ROUNDS):
            if not pending:
                return moved
            listed = _raising(run_all(src, [("CLUSTER", "GETKEYSINSLOT", slot, self.keys_per_call)
                                            for slot in pending]))
            found = [(slot, keys) for slot, keys in zip(pending, listed, strict=True) if keys]
            _raising(run_all(src, [("MIGRATE", target.host, self.migrate_port(target), "", 0, MIGRATE_TIMEOUT_MS,
                                    *auth, "KEYS", *keys) for _slot, keys in found]))
            moved += sum(len(keys) for _slot, keys in found)
            # A slot that gave fewer keys than asked is empty now: while it is MIGRATING, a key it lacks is
            # created on the target (ASK), never here. A full answer may have more: ask again.
            pending = [slot for slot, keys in found if len(keys) >= self.keys_per_call]
        raise TargetError(f"slots {ranges(pending)[:3]} kept receiving keys while they were moved")


def settle_atomic(conns: Iterable[redis.Redis], timeout: float = ATOMIC_TIMEOUT) -> int:
    """Wait for atomic migrations still running on these masters (started by a worker that was killed), until
    each source has let go of what it exported; returns how many were still running."""
    running = 0
    for conn in conns:
        if not supports_atomic(conn):
            continue
        jobs = migration_jobs(conn)
        exporting = [job for job in jobs if job.get("state") not in ATOMIC_DONE and job.get("operation") == "EXPORT"]
        running += len(exporting)  # each job shows on its source (EXPORT) and its target (IMPORT): count it once
        _wait_atomic(conn, None, 0.0, timeout)
        for job in exporting:
            slots = tuple(slot for part in job.get("slot_ranges", "").split() for slot in _slot_range(part))
            _wait_handed_over(conn, slots, f"a resumed slot migration {job.get('slot_ranges')} to be handed over")
    return running


def _slot_range(text: str) -> range:
    first, _, last = text.partition("-")
    return range(int(first), int(last or first) + 1)


def _wait_atomic(conn: redis.Redis, target_id: str | None, since: float, timeout: float = ATOMIC_TIMEOUT) -> None:
    """Until every migration job (to `target_id`, created at or after `since`) has ended; a failed one raises."""
    deadline = time.monotonic() + timeout
    while True:
        jobs = migration_jobs(conn)
        mine = [job for job in jobs if (target_id is None or job.get("target_node") == target_id)
                and int(job.get("create_time") or 0) >= int(since) - 1]
        failed = [job for job in mine if job.get("state") in ("failed", "cancelled")]
        if failed and target_id is not None:
            job = failed[0]
            raise TargetError(f"slot migration {job.get('slot_ranges')} {job.get('state')}: {job.get('message')}")
        if all(job.get("state") in ATOMIC_DONE for job in mine):
            return
        if time.monotonic() > deadline:
            raise TargetError(f"slot migration still running after {timeout:g}s")
        time.sleep(0.02)


def migration_jobs(conn: redis.Redis) -> list[dict[str, str]]:
    """The atomic slot migration jobs this node knows (CLUSTER GETSLOTMIGRATIONS), newest first, as dicts."""
    return [_decoded(job) for job in conn.execute_command("CLUSTER", "GETSLOTMIGRATIONS") or []]


def _decoded(job: object) -> dict[str, str]:
    if isinstance(job, dict):
        items = job.items()
    else:  # RESP2 flat list
        flat = list(job)  # type: ignore[call-overload]
        items = zip(flat[::2], flat[1::2], strict=False)
    return {_text(k): _text(v) for k, v in items}


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _wait_handed_over(conn: redis.Redis, slots: tuple[int, ...], what: str, timeout: float = 30.0) -> None:
    """Until the source's own view no longer lists these slots (it lets go just after the job reports success)."""
    deadline = time.monotonic() + timeout
    while True:
        me = myself(parse_nodes(_text(conn.execute_command("CLUSTER", "NODES"))))
        if not (me and set(me.slots) & set(slots)):
            return
        if time.monotonic() > deadline:
            raise TargetError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _setslot_all(conn: redis.Redis, slots: tuple[int, ...], state: str, node_id: str,
                 tolerate: tuple[str, ...] = ()) -> None:
    """One pipeline of `CLUSTER SETSLOT <slot> <state> <node_id>`; a step a crash already did is not an error."""
    _raising(run_all(conn, [("CLUSTER", "SETSLOT", slot, state, node_id) for slot in slots]),
             tolerate + (_DONE_ALREADY if state != "NODE" else ()))


def take_over_commands(slots: tuple[int, ...], node_id: str) -> list[tuple[object, ...]]:
    """What the target of a batch is sent to own its slots: `CLUSTER BUMPEPOCH` first, so its claim outranks
    the source's at once (gossip cannot hand a slot back, with its keys deleted, to an older claim), then
    `SETSLOT STABLE` + `SETSLOT NODE` per slot, and the last slot's `SETSLOT NODE` while still IMPORTING.
    Redis 7 answers that one with an epoch bump and a PONG to every node carrying all the target's slots:
    one broadcast per batch. Sent IMPORTING for every slot, each `SETSLOT NODE` broadcasts, which made the
    per-slot cost (a message to every node of the cluster) the bulk of a reshard."""
    if not slots:
        return []
    commands: list[tuple[object, ...]] = [("CLUSTER", "BUMPEPOCH")]
    for slot in slots[:-1]:
        commands += [("CLUSTER", "SETSLOT", slot, "STABLE"), ("CLUSTER", "SETSLOT", slot, "NODE", node_id)]
    commands.append(("CLUSTER", "SETSLOT", slots[-1], "NODE", node_id))
    return commands


def _take_over(conn: redis.Redis, slots: tuple[int, ...], node_id: str) -> None:
    """The target of a batch owns its slots (`take_over_commands`), in one pipeline."""
    _raising(run_all(conn, take_over_commands(slots, node_id)))


def _name(node: Node) -> str:
    return f"{node.host}:{node.port}"


def finish_open_moves(mover: SlotMover, selves: Iterable[Node], view: list[Node]) -> int:
    """Finish the slots a killed worker left MIGRATING/IMPORTING (after `settle_atomic`); returns how many.
    `selves`: each master's own `myself` line; `view`: one node's CLUSTER NODES (addresses by id)."""
    by_id = {n.id: n for n in view}
    finished = 0
    for move in open_moves(selves):
        source, target = by_id.get(move.source_id), by_id.get(move.target_id)
        if source is None or target is None or source.failed or target.failed:
            raise TargetError(f"slots {ranges(move.slots)[:3]} were left half moved between nodes that are not "
                              "both up; they are finished once both are back")
        mover.move(source, target, move.slots)
        finished += len(move.slots)
    return finished


@dataclass(frozen=True)
class Reshard:
    """What one reshard moved, for the timeline."""
    shards: int
    slots: int
    keys: int
    seconds: float
    engines: str

    @property
    def says(self) -> str:
        return (f"{self.slots} slots and {self.keys} keys moved online to reach {self.shards} shards in "
                f"{self.seconds:.1f} s ({self.keys / max(self.seconds, 1e-3):,.0f} keys/s, {self.engines})")


def reshard(mover: SlotMover, owners: dict[int, Node], shards: int,
            progress: ReshardProgress | None = None) -> Reshard | None:
    """Move the fewest slots that leave masters 0..shards-1 of `owners` (shard index -> master) an even share
    and every other one none (slots.plan_moves); None when nothing has to move."""
    moves = plan_moves({i: n.slots for i, n in owners.items()}, shards)
    if not moves:
        return None
    total = sum(len(m.slots) for m in moves)
    keys_total = sum(keys_in(mover.dial(owners[m.source]), m.slots) for m in moves)
    started = time.monotonic()
    if progress:
        progress(0, total, 0, keys_total)

    def step(slots: int, moved: int) -> None:
        if progress:
            progress(slots, total, moved, max(keys_total, moved))

    keys = mover.move_all([(owners[m.source], owners[m.target], m.slots) for m in moves], step)
    return Reshard(shards, total, keys, time.monotonic() - started, " + ".join(sorted(mover.engines_used)))
