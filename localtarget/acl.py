"""ACL users on every shard process of a database (masters and replicas): level-triggered, so a restarted
process or a new master after a failover gets them at the next reconcile.

The wanted users come from access/plan.py. What the server already has is read with `ACL LIST`; how the
server writes a wanted user is found with a probe user defined and deleted inside one MULTI (never seen by
a client), so users that are already right are not touched. Passwords travel only inside `ACL SETUSER`
as `>password` on the connection.
"""
from __future__ import annotations

import secrets

import redis

from access.plan import Moves, WantedUser, acl_lines, sync_moves
from core.drivers import Happening
from core.errors import TargetError

from . import processes
from .shards import DatabaseParts, observe_views


def canonical_lines(conn: redis.Redis, wanted: dict[str, WantedUser]) -> dict[str, str]:
    """How the server writes each wanted user in ACL LIST (the part after `user NAME`)."""
    lines = {}
    for name, user in wanted.items():
        probe = f"cp-probe-{secrets.token_hex(6)}"
        pipe = conn.pipeline(transaction=True)
        pipe.execute_command("ACL", "SETUSER", probe, *user.setuser_args()[1:])
        pipe.execute_command("ACL", "LIST")
        pipe.execute_command("ACL", "DELUSER", probe)
        _, listing, _ = pipe.execute()
        lines[name] = acl_lines(listing).get(probe, "")
    return lines


def apply_moves(conn: redis.Redis, moves: Moves) -> None:
    """Define users, switch the default user, then delete (a login being deleted may be this connection's)."""
    for user in moves.define:
        conn.execute_command("ACL", "SETUSER", *user.setuser_args())
    if moves.default_on is not None:
        conn.execute_command("ACL", "SETUSER", "default", "on" if moves.default_on else "off")
    if moves.delete:
        conn.execute_command("ACL", "DELUSER", *moves.delete)


def apply(parts: DatabaseParts) -> list[Happening]:
    """Make every answering process hold exactly the wanted users, the default user on or off."""
    _, infos = observe_views(parts, parts.processes)
    canonical: dict[str, str] | None = None
    changed = []
    for proc in parts.processes:
        info = infos.get(proc.name)
        if info is None:
            continue
        conn = processes.client(proc.port, info["_password"], username=info["_username"])
        try:
            if canonical is None:
                canonical = canonical_lines(conn, parts.wanted_users)
            moves = sync_moves(acl_lines(conn.execute_command("ACL", "LIST")), parts.wanted_users, canonical,
                               default_enabled=parts.spec.default_user)
            if moves:
                apply_moves(conn, moves)
                changed.append((proc.name, moves))
        except redis.ConnectionError:
            continue  # the process went away; the next reconcile sees it again
        except redis.RedisError as exc:
            raise TargetError(f"{proc.name} refused an ACL change: {exc}") from exc
    happenings = []
    for name, moves in changed:
        what = []
        if moves.define:
            what.append("users set: " + ", ".join(sorted(user.username for user in moves.define)))
        if moves.delete:
            what.append("users removed: " + ", ".join(moves.delete))
        if moves.default_on is not None:
            what.append(f"default user {'on' if moves.default_on else 'off'}")
        happenings.append(Happening("AclApplied", f"{name}: {'; '.join(what)}"))
    return happenings
