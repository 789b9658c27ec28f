"""ACL users on every shard process of a database (masters and replicas): level-triggered, so a restarted
process or a new master after a failover gets them at the next reconcile (access/apply.py does the work
on each connection)."""
from __future__ import annotations

import redis

from access import apply as acl_apply
from core.drivers import Happening
from core.errors import TargetError

from . import processes
from .shards import DatabaseParts, observe_views


def apply(parts: DatabaseParts) -> list[Happening]:
    """Make every answering process hold exactly the wanted users, the default user on or off."""
    _, infos = observe_views(parts, parts.processes)
    canonical: dict[str, str] | None = None
    happenings = []
    for proc in parts.processes:
        info = infos.get(proc.name)
        if info is None:
            continue
        conn = processes.client(proc.port, info["_password"], username=info["_username"])
        try:
            if canonical is None:
                canonical = acl_apply.canonical_lines(conn, parts.wanted_users)
            moves = acl_apply.sync(conn, parts.wanted_users, canonical, default_enabled=parts.spec.default_user)
        except redis.ConnectionError:
            continue  # the process went away; the next reconcile sees it again
        except redis.RedisError as exc:
            raise TargetError(f"{proc.name} refused an ACL change: {exc}") from exc
        finally:
            conn.close()
        if moves:
            happenings.append(Happening("AclApplied", f"{proc.name}: {acl_apply.describe(moves)}"))
    return happenings
