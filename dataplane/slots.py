"""Hash-slot layout of a sharded database (Redis Cluster): pure functions, unit-tested without Redis.

Shards own contiguous, even ranges at creation; a change of `shardCount` moves the fewest slots
that make the distribution even again, from shards that have too many (or are going away) to
shards that have too few.
"""
from __future__ import annotations

from dataclasses import dataclass

SLOTS = 16384


def even_counts(shards: int) -> list[int]:
    base, extra = divmod(SLOTS, shards)
    return [base + (1 if i < extra else 0) for i in range(shards)]


def even_ranges(shards: int) -> list[tuple[int, int]]:
    """[(first, last)] per shard, inclusive."""
    ranges, start = [], 0
    for count in even_counts(shards):
        ranges.append((start, start + count - 1))
        start += count
    return ranges


@dataclass(frozen=True)
class Move:
    source: int  # shard index
    target: int
    slots: tuple[int, ...]


def plan_moves(ownership: dict[int, list[int]], shards: int) -> list[Move]:
    """Moves that leave shards 0..shards-1 with an even share and every other shard with none.

    `ownership` maps a shard index to the slots it owns now (shards absent own nothing).
    """
    wanted = dict(enumerate(even_counts(shards)))
    owned = {index: sorted(slots) for index, slots in ownership.items()}
    for index in wanted:
        owned.setdefault(index, [])
    surplus = {i: len(s) - wanted.get(i, 0) for i, s in owned.items()}
    donors = sorted((i for i, n in surplus.items() if n > 0), key=lambda i: (i < shards, i))
    receivers = sorted(i for i, n in surplus.items() if n < 0)
    moves = []
    for target in receivers:
        need = -surplus[target]
        for source in donors:
            if need == 0:
                break
            give = min(need, surplus[source])
            if give <= 0:
                continue
            slots = owned[source][-give:]
            owned[source] = owned[source][:-give]
            surplus[source] -= give
            need -= give
            moves.append(Move(source, target, tuple(slots)))
    return moves
