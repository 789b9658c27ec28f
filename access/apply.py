"""Making one Redis process hold exactly the wanted ACL users, over a connection the target dials (the local
target to its processes, the Kubernetes target to its pods): one library, two callers.

What the server has is read with `ACL LIST`; how the server writes a wanted user is found with a probe
user defined and deleted inside one MULTI (never seen by a client), so users that are already right are
not touched. Passwords travel only inside `ACL SETUSER` as `>password` on the connection.
"""
from __future__ import annotations

import secrets

import redis

from .plan import Moves, WantedUser, acl_lines, sync_moves


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


def sync(conn: redis.Redis, wanted: dict[str, WantedUser], canonical: dict[str, str], *,
         default_enabled: bool) -> Moves:
    """Bring one process to the wanted users; returns what was changed (empty when it already was right)."""
    moves = sync_moves(acl_lines(conn.execute_command("ACL", "LIST")), wanted, canonical,
                       default_enabled=default_enabled)
    if moves:
        apply_moves(conn, moves)
    return moves


def describe(moves: Moves) -> str:
    """What changed, for an event: names only, never a password."""
    what = []
    names = sorted(user.username for user in moves.define if user.username != "default")
    if names:
        what.append("users set: " + ", ".join(names))
    if any(user.username == "default" for user in moves.define):  # on, with its password (kube/dataplane.py)
        what.append("default user on")
    if moves.delete:
        what.append("users removed: " + ", ".join(moves.delete))
    if moves.default_on is not None:
        what.append(f"default user {'on' if moves.default_on else 'off'}")
    return "; ".join(what)
