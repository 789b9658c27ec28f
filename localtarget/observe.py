"""Status from real health, never from "I started it".

A database is `active` when its master answers AUTH+PING, the endpoint reaches that master and,
with replication, a replica is in sync. A cluster is `Running` when a majority of its sentinels
answers and, for every database they watch, SENTINEL CKQUORUM says a failover can be authorised.
"""
from __future__ import annotations

import redis

from core.drivers import Condition, Happening, Observation
from targets import managed

from . import processes, sentinel
from .layout import Process
from .shards import DatabaseParts, observe_views


def in_sync_replicas(master_info: dict) -> int:
    """Replicas the master reports online (`slaveN: ...,state=online,...`)."""
    count = 0
    for key, value in master_info.items():
        if key.startswith("slave") and isinstance(value, dict) and value.get("state") == "online":
            count += 1
    return count


def server_of(info: dict | None) -> str:
    """What `INFO server` says runs: "valkey 9.1.2" or "redis 7.0.15" (Valkey also reports redis_version 7.2.4)."""
    if not info:
        return ""
    if info.get("valkey_version"):
        return f"valkey {info['valkey_version']}"
    return f"redis {info.get('redis_version', '')}"


def endpoint_reaches(parts: DatabaseParts, master_port: int) -> bool:
    """Whether a client of the endpoint (over TLS when the database has it on) lands on the master."""
    try:
        conn = processes.client(parts.endpoint.port, parts.password, username=parts.username, timeout=2,
                                tls=parts.tls)
        return int(conn.info("server")["tcp_port"]) == master_port
    except (redis.RedisError, KeyError, ValueError):
        return False


def observe_database(parts: DatabaseParts, previous: dict) -> Observation:
    views, infos = observe_views(parts, parts.processes)
    sentinel_port = parts.sentinel_master_port()
    masters = [v for v in views if v.alive and v.role == "master"]
    master = next((v for v in masters if v.port == sentinel_port), masters[0] if masters else None)
    details = {
        "endpoint": f"127.0.0.1:{parts.endpoint.port}",
        "redisVersion": parts.version,
        "master": master.name if master else "",
        "processes": {v.name: {"port": v.port, "role": v.role or ("down" if not v.alive else "unknown"),
                               "runId": infos.get(v.name, {}).get("run_id", ""),
                               "version": processes.read_state(_by_name(parts, v.name)).get("version", ""),
                               "server": server_of(infos.get(v.name))}
                      for v in views},
    }
    conditions, happenings = [], []
    master_ok = False
    if master is not None:
        try:
            master_ok = bool(parts.client(master.port, timeout=2).ping())
        except redis.RedisError:
            master_ok = False
    conditions.append(Condition("MasterAvailable", "True" if master_ok else "False",
                                "AuthPingOk" if master_ok else "NoMaster",
                                f"{master.name} answers AUTH+PING" if master_ok else _no_master_message(parts, views)))
    replica_ok = True
    if parts.spec.replication:
        synced = in_sync_replicas(infos.get(master.name, {})) if master else 0
        replica_ok = synced >= 1
        conditions.append(Condition("ReplicaInSync", "True" if replica_ok else "False",
                                    "Online" if replica_ok else "Syncing",
                                    f"{synced} replica(s) in sync" if replica_ok else "no replica in sync yet"))
    failover_ok = True
    if parts.spec.replication:
        failover_ok, message = sentinel.failover_ready(parts.sentinels, parts.monitor, parts.quorum)
        conditions.append(Condition("FailoverReady", "True" if failover_ok else "False",
                                    "QuorumWatches" if failover_ok else "QuorumNotReady", message))
    endpoint_ok = master_ok and endpoint_reaches(parts, master.port)
    conditions.append(Condition("EndpointReady", "True" if endpoint_ok else "False",
                                "RoutesToMaster" if endpoint_ok else "NotRouting",
                                f"127.0.0.1:{parts.endpoint.port} reaches {master.name}" if endpoint_ok
                                else f"127.0.0.1:{parts.endpoint.port} does not reach the master yet"))
    before = previous.get("master")
    if master_ok and before and before != master.name:
        happenings.append(Happening("MasterChanged", f"master moved from {before} to {master.name} "
                                    f"(port {master.port}); the endpoint follows", warning=True))
    ready = master_ok and replica_ok and endpoint_ok and failover_ok
    return Observation(state=database_state(ready, master_ok, previous), conditions=conditions,
                       happenings=happenings, details=details, settled=ready)


def _no_master_message(parts: DatabaseParts, views) -> str:
    if parts.spec.replication and any(v.alive for v in views):
        return "no master answers AUTH+PING; waiting for the sentinels to promote a replica"
    return "no master answers AUTH+PING"


def _by_name(parts: DatabaseParts, name: str):
    return next(p for p in parts.processes if p.name == name)


def observe_cluster(sentinels: list[Process], quorum: int, watched: list[str], previous: dict,
                    *, started: int = 0, tls_group: tuple[list[Process], list[str]] | None = None) -> Observation:
    """`started`: quorum members this pass started. A new cluster whose members were only just started
    stays Initializing until the next pass confirms they are still up, as a readiness probe would.
    `tls_group`: the TLS sentinel group's members and what they watch, when the cluster has one."""
    alive = sentinel.answering(sentinels)
    conditions = [Condition("QuorumAnswers", "True" if len(alive) >= quorum else "False",
                            "Majority" if len(alive) >= quorum else "NoMajority",
                            f"{len(alive)} of {len(sentinels)} quorum members answer (majority is {quorum})")]
    tls_alive: list[Process] = []
    if tls_group is not None:
        tls_alive = sentinel.answering(tls_group[0])
        conditions.append(Condition("TlsQuorumAnswers", "True" if len(tls_alive) >= quorum else "False",
                                    "Majority" if len(tls_alive) >= quorum else "NoMajority",
                                    f"{len(tls_alive)} of {len(tls_group[0])} members of the TLS sentinel group "
                                    f"answer (majority is {quorum})"))
    problems = []
    for members, names in [(sentinels, watched), *([tls_group] if tls_group else [])]:
        for name in names:
            ok, message = sentinel.ckquorum(members, name)
            if not ok:
                problems.append(f"{name}: {message}")
    count = len(watched) + (len(tls_group[1]) if tls_group else 0)
    if count:
        conditions.append(Condition("FailoverAuthorised", "False" if problems else "True",
                                    "CkquorumFailed" if problems else "CkquorumOk",
                                    "; ".join(problems) or f"CKQUORUM ok for {count} database(s)"))
    details = {"quorumMembers": {s.name: s.port for s in [*sentinels, *(tls_group[0] if tls_group else [])]},
               "answering": len(alive)}
    ready = len(alive) >= quorum and not problems and (tls_group is None or len(tls_alive) >= quorum)
    if ready and started and not previous.get("everRunning"):
        conditions.append(Condition("MembersConfirmed", "False", "JustStarted",
                                    f"{started} quorum member(s) just started; confirming they stay up"))
        return Observation(state=managed.INITIALIZING, conditions=conditions, details=details, settled=False)
    if ready:
        state = managed.RUNNING
    elif previous.get("everRunning"):
        state = managed.ERROR
    else:
        state = managed.INITIALIZING
    return Observation(state=state, conditions=conditions, details=details, settled=ready)


def observe_sharded(parts: DatabaseParts, previous: dict) -> Observation:
    """A sharded database: every shard has a master owning its slots, cluster_state ok, replicas in sync."""
    from . import redis_cluster

    views, infos = observe_views(parts, parts.processes)
    by_port = {p.port: p for p in parts.processes}
    conditions, happenings = [], []
    masters: dict[int, str] = {}
    state_ok = False
    live = [p for p in parts.processes if p.name in infos]
    try:
        if live:
            nodes = redis_cluster.cluster_nodes(live[0], parts)
            masters = {by_port[n.port].shard: by_port[n.port].name for n in nodes
                       if n.is_master and n.slots and not n.failed and n.port in by_port}
            state_ok = redis_cluster.cluster_info(live[0], parts).get("cluster_state") == "ok"
    except redis.RedisError:
        pass
    all_masters = len(masters) == parts.spec.shard_count and all(
        _pings(parts, _by_name(parts, name).port) for name in masters.values())
    conditions.append(Condition("ClusterStateOk", "True" if state_ok else "False",
                                "AllSlotsServed" if state_ok else "ClusterNotOk",
                                f"{len(masters)} of {parts.spec.shard_count} shards have a master answering; "
                                f"cluster_state {'ok' if state_ok else 'not ok'}"))
    replica_ok = True
    if parts.spec.replication:
        synced = [in_sync_replicas(infos.get(name, {})) for name in masters.values()]
        replica_ok = len(synced) == parts.spec.shard_count and all(n >= 1 for n in synced)
        conditions.append(Condition("ReplicaInSync", "True" if replica_ok else "False",
                                    "Online" if replica_ok else "Syncing",
                                    "every shard has a replica in sync" if replica_ok else "replicas syncing"))
    endpoint_ok = False
    try:
        info = processes.client(parts.endpoint.port, parts.password, username=parts.username, timeout=2,
                                tls=parts.tls).info("replication")
        endpoint_ok = info.get("role") == "master"
    except redis.RedisError:
        pass
    conditions.append(Condition("EndpointReady", "True" if endpoint_ok else "False",
                                "RoutesToAMaster" if endpoint_ok else "NotRouting",
                                f"127.0.0.1:{parts.endpoint.port} reaches a shard master (use cluster mode: -c)"))
    master = masters.get(0, "")
    if master and previous.get("master") and previous["master"] != master:
        happenings.append(Happening("MasterChanged", f"shard 0 master moved from {previous['master']} to {master}",
                                    warning=True))
    ready = all_masters and state_ok and replica_ok and endpoint_ok
    details = {
        "endpoint": f"127.0.0.1:{parts.endpoint.port}",
        "redisVersion": parts.version,
        "master": master,
        "shardMasters": [masters.get(i, "") for i in range(parts.spec.shard_count)],
        "processes": {v.name: {"port": v.port, "role": v.role or ("down" if not v.alive else "unknown"),
                               "runId": infos.get(v.name, {}).get("run_id", ""),
                               "version": processes.read_state(_by_name(parts, v.name)).get("version", ""),
                               "server": server_of(infos.get(v.name))}
                      for v in views},
    }
    return Observation(state=database_state(ready, all_masters, previous), conditions=conditions,
                       happenings=happenings, details=details, settled=ready)


def database_state(ready: bool, serving: bool, previous: dict) -> str:
    """The REDB word: active when all is well; before the first time pending; then change-pending while
    the masters still serve, Error when they do not."""
    if ready:
        return managed.DB_ACTIVE
    if not previous.get("everRunning"):
        return managed.DB_PENDING
    return managed.DB_CHANGE_PENDING if serving else managed.ERROR


def _pings(parts: DatabaseParts, port: int) -> bool:
    try:
        return bool(parts.client(port, timeout=2).ping())
    except redis.RedisError:
        return False
