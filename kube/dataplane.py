"""Talking to the Redis and Sentinel processes inside a Kubernetes target (the data plane).

The Kubernetes API cannot run `CONFIG SET` or ask sentinels who the master is; this client does,
over the Redis protocol, to the in-cluster DNS names the manifests define. It works when the
control plane runs inside the target cluster (`in_cluster`), or when `dataplane_addresses` in the
target's settings maps those names to addresses that the control plane and the sentinels both
reach (`"<pod>.<db>-headless.<ns>.svc.cluster.local:6379": "10.1.2.3:6379"`, a flat network; the
tests map them to real redis-server/redis-sentinel processes on 127.0.0.1). The map is used both
ways: names are translated when connecting or registering a master with the sentinels, and the
addresses sentinels report are translated back to pod names. A control plane outside the cluster
that routes to pod IPs but does not use the cluster's DNS sets `dataplane_nameserver` (`ip[:port]`,
the cluster DNS): it resolves the names there for its own connections, and registers masters with
the sentinels by name (they resolve names themselves). Otherwise the data plane is off and
says so: live settings then take effect at the next pod restart, and the master is whatever the
services rigger last saw (pod 0 at bootstrap).
"""
from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import socket
import time
from collections.abc import Callable

import dns.exception
import dns.resolver
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from access import apply as acl_apply
from access import internal
from access.plan import ADMIN_USER, acl_lines, default_is_on, sync_moves
from core.drivers import ShardSource
from core.errors import TargetError
from dataplane import formation
from dataplane.cluster import Node, myself, parse_info, parse_nodes, settled
from dataplane.migration import ReshardProgress, SlotMover, finish_open_moves, reshard, settle_atomic
from dataplane.replication import parse_info as parse_replication_info
from dataplane.replication import promotion_problem
from dataplane.sentinel import failover as sentinel_failover
from dataplane.sentinel import master_address as sentinel_master_address
from dataplane.sentinel import monitor as sentinel_monitor
from kube.render.cluster import SENTINEL_PORT, sentinel_hosts
from kube.render.database import REDIS_PORT, TLS_PORT, cluster_ports, sentinel_user
from kube.render.inputs import ClusterInputs
from kube.render.tls_sentinels import tls_sentinel_hosts, watched_by_tls_group
from specs.database import DatabaseSpec

# What a database's pods may ask the sentinels: who the master is and which replicas they know.
# Not FAILOVER, not other commands.
SENTINEL_POD_RULES = ("on", "resetchannels", "-@all", "+ping", "+sentinel|get-master-addr-by-name",
                      "+sentinel|replicas")

DOWN_AFTER_MS = 5000
FAILOVER_TIMEOUT_MS = 30000
MIGRATION_TIMEOUT = 30.0  # seconds a MIGRATE of a batch of keys may take
FORM_WAIT = 3.0  # seconds one pass keeps forming (a new master is writable 2 s after it starts)
FORM_POLL = 0.05


def watching_sentinels(database) -> list[str]:
    """The quorum members that watch a database: the cluster's TLS group for replica_ssl, else the plain one."""
    inputs = ClusterInputs.of(database.cluster)
    return tls_sentinel_hosts(inputs) if watched_by_tls_group(database.typed_spec) else sentinel_hosts(inputs)


class DataPlaneError(Exception):
    """A data-plane command failed (the reconcile reports it and tries again)."""


class DataPlane:
    def __init__(self, settings: dict):
        self.addresses: dict[str, str] = dict(settings.get("dataplane_addresses") or {})
        self.nameserver: str = settings.get("dataplane_nameserver") or ""
        mode = settings.get("dataplane", "auto")
        self.enabled = mode == "on" or (mode == "auto" and (bool(settings.get("in_cluster")) or bool(self.addresses)
                                                            or bool(self.nameserver)))
        self.timeout = float(settings.get("dataplane_timeout", 2.0))

    def registered_address(self, host: str, port: int) -> tuple[str, int]:
        """How a data-plane name is given to the sentinels: translated by `dataplane_addresses`, else the name."""
        real_host, real_port = self.addresses.get(f"{host}:{port}", f"{host}:{port}").rsplit(":", 1)
        return real_host, int(real_port)

    def address(self, host: str, port: int) -> tuple[str, int]:
        """Where the control plane reaches a data-plane name (raises redis.ConnectionError when it cannot
        be resolved through `dataplane_nameserver`)."""
        real_host, real_port = self.registered_address(host, port)
        if self.nameserver and f"{host}:{port}" not in self.addresses and not _is_ip(real_host):
            real_host = self._resolve(real_host)
        return real_host, real_port

    def _resolve(self, host: str) -> str:
        server, _, port = self.nameserver.partition(":")
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers, resolver.port, resolver.lifetime = [server], int(port or 53), self.timeout
        try:
            return str(resolver.resolve(host, "A", search=False)[0])
        except dns.exception.DNSException as exc:
            raise redis.ConnectionError(f"{host} does not resolve through {self.nameserver}: {exc}") from exc

    def name_of(self, host: str, port: int) -> str:
        """The data-plane name of an address a sentinel reports (itself when not translated)."""
        wanted = f"{host}:{port}"
        for name, address in self.addresses.items():
            if address == wanted:
                return name.rsplit(":", 1)[0]
        return host

    def _connect(self, host: str, port: int, password: str, *, username: str | None = None,
                 timeout: float | None = None) -> redis.Redis:
        real_host, real_port = self.address(host, port)
        # No client-side retries: an unreachable member is reported at once, the reconcile is retried.
        return redis.Redis(host=real_host, port=real_port, username=username, password=password,
                           socket_timeout=timeout or self.timeout, socket_connect_timeout=self.timeout,
                           decode_responses=True, retry=Retry(NoBackoff(), 0))

    def _connect_pod(self, database, host: str, *, timeout: float | None = None) -> redis.Redis:
        """A connection to a database pod's Redis as the control plane logs in there (access/internal.py: the
        default user, or its own user where the default user is off). While the default user is being turned on,
        pods still refuse it: then as the pods' own user, which every pod has either way (pod_login)."""
        login = internal.login(database)
        connection = self._connect(host, REDIS_PORT, login.password, username=login.username, timeout=timeout)
        if login.username is not None:
            return connection
        try:
            connection.ping()  # AUTH happens on the first command
            return connection
        except redis.AuthenticationError:
            connection.close()
        own = pod_login(database)
        return self._connect(host, REDIS_PORT, own.password, username=own.username, timeout=timeout)

    def _sentinels(self, cluster, hosts: list[str] | None = None):
        """A client per quorum member (of `hosts`, the plain group by default) whose name resolves (one that
        does not counts as not answering)."""
        connect = self._sentinel_connect(cluster)
        for host in hosts if hosts is not None else sentinel_hosts(ClusterInputs.of(cluster)):
            try:
                yield host, connect(host)
            except redis.ConnectionError:
                continue

    def _sentinel_connect(self, cluster) -> Callable[[str], redis.Redis]:
        """How to reach one quorum member of `cluster` by its host name."""
        return lambda host: self._connect(host, SENTINEL_PORT, cluster.admin_password)

    def sentinels_answering(self, cluster) -> int:
        """How many quorum members answer PING (the quorum must answer for a cluster to be Running)."""
        answering = 0
        for _, sentinel in self._sentinels(cluster):
            try:
                answering += bool(sentinel.ping())
            except redis.RedisError:
                pass
            finally:
                sentinel.close()
        return answering

    def master_host(self, database) -> str | None:
        """The master's announced host name as most of the cluster's sentinels see it; None if none answers."""
        if not self.enabled:
            return None
        cluster = database.cluster
        address = sentinel_master_address(watching_sentinels(database), self._sentinel_connect(cluster),
                                          database.name)
        return self.name_of(*address) if address else None

    def monitor(self, database, master_host: str) -> int:
        """Register the database with every sentinel that does not watch it yet, logging in to the pods as their
        own user; returns how many did it now. A registration made before is brought to that login by
        sentinel_logins, after the users are on every pod."""
        cluster = database.cluster
        quorum = cluster.typed_spec.nodes // 2 + 1
        registered = 0
        # replica_ssl: the TLS group MONITORs the master's TLS port (where its replicas announce themselves too)
        tls = watched_by_tls_group(database.typed_spec)
        host, port = self.registered_address(master_host, TLS_PORT if tls else REDIS_PORT)
        login = pod_login(database)
        for _, sentinel in self._sentinels(cluster, watching_sentinels(database)):
            try:
                if sentinel.acl_getuser(sentinel_user(database)) is None:
                    self._grant_pod_user(sentinel, database)
                registered += sentinel_monitor(sentinel, database.name, host, port, quorum=quorum,
                                               password=login.password, username=login.username,
                                               down_after_ms=DOWN_AFTER_MS, failover_timeout_ms=FAILOVER_TIMEOUT_MS)
            except redis.RedisError as exc:
                raise DataPlaneError(f"cannot register {database.name} with the sentinels: {exc}") from exc
            finally:
                sentinel.close()
        return registered

    def sentinel_logins(self, database) -> int:
        """Every sentinel watching the database logs in to its pods as their own user, and its pods' sentinel
        user has the passwords pods log in with; returns how many sentinels changed. The sentinel user's
        passwords tell whether a sentinel is up to date (a sentinel never shows its auth-pass): they change when
        `defaultUser` does, and a sentinel that was down then is brought along at a later pass. Called once
        the pods' own user is on every pod: a sentinel whose AUTH fails would think the master down."""
        changed = 0
        login = pod_login(database)
        wanted = pod_user_hashes(database)
        for _, sentinel in self._sentinels(database.cluster, watching_sentinels(database)):
            try:
                found = sentinel.acl_getuser(sentinel_user(database))
                if found is not None and sorted(found.get("passwords") or []) == wanted:
                    continue
                with contextlib.suppress(redis.ResponseError):  # "No such master": monitor registers it
                    sentinel.execute_command("SENTINEL", "SET", database.name, "auth-user", login.username,
                                             "auth-pass", login.password)
                self._grant_pod_user(sentinel, database)
                changed += 1
            except redis.RedisError as exc:
                raise DataPlaneError(f"cannot update the sentinels' login to {database.name}: {exc}") from exc
            finally:
                sentinel.close()
        return changed

    @staticmethod
    def _grant_pod_user(sentinel: redis.Redis, database) -> None:
        """The database's own sentinel user, with the passwords the pods log in to Redis with (their own user's;
        while the default user is on, the database password too, which pods started before their own user
        existed use), so its pods need no cluster password."""
        sentinel.execute_command("ACL", "SETUSER", sentinel_user(database), "reset", *SENTINEL_POD_RULES,
                                 *(f">{password}" for password in sentinel_user_passwords(database)))
        sentinel.execute_command("SENTINEL", "FLUSHCONFIG")

    @contextlib.contextmanager
    def _pod(self, host: str, database):
        """A connection to a pod, closed afterwards; resolving or connecting fails as a redis.RedisError."""
        connection = self._connect_pod(database, host)
        try:
            yield connection
        finally:
            connection.close()

    def promotion_problems(self, database, master_host: str, replica_hosts: list[str]) -> list[str]:
        """Why a switchover away from `master_host` must wait: one line per replica not caught up (none: go)."""
        master_offset = None
        try:
            with self._pod(master_host, database) as master:
                master_offset = int(parse_replication_info(master.info("replication"))["master_repl_offset"])
        except (redis.RedisError, KeyError, ValueError):
            pass  # the replicas' own view decides
        problems = []
        for host in replica_hosts:
            try:
                with self._pod(host, database) as replica:
                    info = parse_replication_info(replica.info("replication"))
                    info.update(parse_replication_info(replica.info("persistence")))
                problem = promotion_problem(info, master_offset)
            except redis.RedisError as exc:
                problem = f"it does not answer ({exc})"
            if problem:
                problems.append(f"{host.split('.', 1)[0]}: {problem}")
        return problems

    def roles(self, database, hosts: list[str]) -> dict[str, str]:
        """`ROLE` of each pod that answers: {host: "master" | "slave"} (Redis Cluster decides who is master)."""
        result = {}
        for host in hosts:
            try:
                with self._pod(host, database) as pod:
                    result[host] = str(pod.execute_command("ROLE")[0])
            except redis.RedisError:
                continue
        return result

    def cluster_failover(self, database, master_host: str, hosts: list[str]) -> str:
        """Switch a Redis Cluster shard's master over to one of its caught-up replicas with CLUSTER FAILOVER
        (Redis Cluster is the authority of sharded databases; sentinels do not watch them). Returns the
        replica's host; raises DataPlaneError when none is caught up."""
        try:
            with self._pod(master_host, database) as master:
                master_id = self._myself(master).id
        except redis.RedisError as exc:
            raise DataPlaneError(f"cannot read CLUSTER NODES of {master_host.split('.', 1)[0]}: {exc}") from exc
        replicas = []
        for host in hosts:
            if host == master_host:
                continue
            try:
                with self._pod(host, database) as pod:
                    if self._myself(pod).master_id == master_id:
                        replicas.append(host)
            except redis.RedisError:
                continue
        if not replicas:
            raise DataPlaneError(f"{master_host.split('.', 1)[0]} has no replica to switch over to")
        problems = self.promotion_problems(database, master_host, replicas)
        ready = [h for h in replicas if not any(p.startswith(h.split(".", 1)[0] + ":") for p in problems)]
        if not ready:
            raise DataPlaneError("no replica may take over yet: " + "; ".join(problems))
        try:
            with self._pod(ready[0], database) as replica:
                replica.execute_command("CLUSTER", "FAILOVER")
        except redis.RedisError as exc:
            raise DataPlaneError(f"CLUSTER FAILOVER on {ready[0].split('.', 1)[0]} failed: {exc}") from exc
        return ready[0]

    def shard_sources(self, database, master_hosts: list[str], hosts: list[str]) -> list[ShardSource]:
        """Where a backup copies each shard's RDB from: a replica caught up with its master (so the master is
        not forked), else the master; addresses as the control plane reaches them. `master_hosts`: the pods
        the services rigger labelled master; `hosts`: every pod. DataPlaneError when a shard has no master."""
        if database.typed_spec.is_cluster:
            return self._cluster_sources(database, hosts)
        if not master_hosts:
            raise DataPlaneError(f"database {database.name} has no master right now; no backup taken")
        master = master_hosts[0]
        problems = self.promotion_problems(database, master, [h for h in hosts if h != master])
        caught_up = [h for h in hosts if h != master and not any(p.startswith(_pod_name(h) + ":") for p in problems)]
        chosen = caught_up[0] if caught_up else master
        return [self._source(0, chosen, "replica" if caught_up else "master", tuple(range(16384)))]

    def _cluster_sources(self, database, hosts: list[str]) -> list[ShardSource]:
        """Each pod's own `myself` line says its role, its master and its slots (no address translation)."""
        me: dict[str, Node] = {}
        for host in hosts:
            try:
                with self._pod(host, database) as pod:
                    me[host] = self._myself(pod)
            except redis.RedisError:
                continue
        masters = sorted(((h, n) for h, n in me.items() if n.is_master and n.slots), key=lambda hn: min(hn[1].slots))
        if sum(len(n.slots) for _, n in masters) != 16384:
            raise DataPlaneError(f"database {database.name}: not every slot has a master that answers; no backup taken")
        sources = []
        for index, (master, node) in enumerate(masters):
            replicas = [h for h, n in me.items() if n.master_id == node.id]
            problems = self.promotion_problems(database, master, replicas) if replicas else []
            caught_up = [h for h in replicas if not any(p.startswith(_pod_name(h) + ":") for p in problems)]
            chosen = caught_up[0] if caught_up else master
            sources.append(self._source(index, chosen, "replica" if caught_up else "master", tuple(node.slots)))
        return sources

    def _source(self, shard: int, host: str, role: str, slots: tuple[int, ...]) -> ShardSource:
        try:
            real_host, real_port = self.address(host, REDIS_PORT)
        except redis.ConnectionError as exc:
            raise DataPlaneError(str(exc)) from exc
        return ShardSource(shard=shard, process=_pod_name(host), port=real_port, role=role, slots=slots,
                           host=real_host)

    def forget(self, database) -> None:
        """Stop the sentinels watching a deleted database (best effort: they may be gone already)."""
        if not self.enabled:
            return
        for _, sentinel in self._sentinels(database.cluster, watching_sentinels(database)):
            try:
                sentinel.execute_command("SENTINEL", "REMOVE", database.name)
            except redis.RedisError:
                pass
            finally:
                sentinel.close()

    def failover(self, database, master_host: str, replica_hosts: list[str]) -> None:
        """Ask the sentinels to switch the master over to a replica (they pick which), once every replica
        they could pick is caught up; otherwise DataPlaneError saying which is not."""
        problems = self.promotion_problems(database, master_host, replica_hosts)
        if problems:
            raise DataPlaneError("no switchover yet: " + "; ".join(problems))
        cluster = database.cluster
        refusal = sentinel_failover(watching_sentinels(database), self._sentinel_connect(cluster),
                                    database.name)
        if refusal:
            raise DataPlaneError(f"no sentinel of {cluster.name} accepted a failover of {database.name}: {refusal}")

    def config_set(self, database, pod_hosts: list[str]) -> None:
        """Apply the live settings (maxmemory, policy, persistence) to every pod with CONFIG SET."""
        settings = database.typed_spec.redis_config().as_config_set()
        for host in pod_hosts:
            connection = None
            try:
                connection = self._connect_pod(database, host)
                for key, value in settings.items():
                    connection.config_set(key, value)
            except redis.RedisError as exc:
                raise DataPlaneError(f"CONFIG SET on {host} failed: {exc}") from exc
            finally:
                if connection is not None:
                    connection.close()

    def load_tls(self, database, host: str, wanted: dict[str, str]) -> str | None:
        """Make one pod's Redis load the TLS files `wanted` names (kube/render/database.py tls_settings) with one
        CONFIG SET, unless it already has them; returns the certificate file it had before (None: nothing to
        do). DataPlaneError when Redis refuses them: not in the pod yet (the kubelet refreshes a mounted Secret
        within about a minute), or unreadable."""
        try:
            with self._pod(host, database) as pod:
                have = pod.config_get("tls-*")
                if all(have.get(key) == value for key, value in wanted.items()):
                    return None
                pod.execute_command("CONFIG", "SET", *[part for pair in wanted.items() for part in pair])
        except redis.ResponseError as exc:
            raise DataPlaneError(str(exc)) from exc
        except redis.RedisError as exc:
            raise DataPlaneError(f"{_pod_name(host)} does not answer: {exc}") from exc
        return have.get("tls-cert-file", "")

    def sync_users(self, database, pod_hosts: list[str], wanted: dict, *,
                   default_off: bool) -> tuple[list[tuple[str, str]], list[str]]:
        """Make every pod hold exactly the wanted ACL users (access/apply.py); returns (host, what changed) per pod
        changed, and the pods whose default user is on while it is wanted off but may not be switched off yet
        (`default_off` False). Level-triggered: a restarted pod or a new master gets them at the next reconcile.
        `wanted` holds the pods' own user and, while it is to be on, the default user with its password, so
        turning it on is one ACL SETUSER that gives it its password too (never on without one). Turning it off
        (`default_off`) comes last: once every pod has every user and the sentinels log in as the pods' own user
        (sentinel_logins); then the connections still logged in as the default user are closed (Redis keeps them
        otherwise)."""
        canonical = None
        changed: dict[str, list[str]] = {}
        switch_off, still_on = [], []
        for host in pod_hosts:
            with self._acl_connection(database, host) as connection:
                if canonical is None:
                    canonical = acl_apply.canonical_lines(connection, wanted)
                current = acl_lines(connection.execute_command("ACL", "LIST"))
                is_on = default_is_on(current)
                moves = sync_moves(current, wanted, canonical, default_enabled=is_on)  # on/off: below
                if moves:
                    acl_apply.apply_moves(connection, moves)
                    changed.setdefault(host, []).append(acl_apply.describe(moves))
                if is_on and "default" not in wanted:
                    (switch_off if default_off else still_on).append(host)
        if not database.typed_spec.is_cluster:
            self.sentinel_logins(database)
        for host in switch_off:
            with self._acl_connection(database, host) as connection:
                connection.execute_command("ACL", "SETUSER", "default", "off")
                connection.execute_command("CLIENT", "KILL", "USER", "default")
            changed.setdefault(host, []).append("default user off")
        return [(host, "; ".join(what)) for host, what in changed.items()], still_on

    @contextlib.contextmanager
    def _acl_connection(self, database, host: str):
        try:
            with self._pod(host, database) as connection:
                yield connection
        except redis.RedisError as exc:
            raise DataPlaneError(f"ACL change on {host} failed: {exc}") from exc

    def form_cluster(self, database, shards: list[list[str]], retiring: list[str]) -> tuple[bool, list[str]]:
        """Make the pods of a sharded database one Redis Cluster, or repair it (dataplane/formation.py plans
        the steps). `shards`: each shard's pods' data-plane names, by ordinal; `retiring`: pods of shards
        being drained. Rounds of steps run until formed or FORM_WAIT has passed (polled): gossip takes a
        moment, and a new master refuses writes for its first 2 s (Redis's CLUSTER_WRITABLE_DELAY), which a
        reshard would otherwise wait out a reconcile pass at a time. Returns (formed, what was done); when
        not formed, a caller looks again at its next pass."""
        hosts = [host for group in shards for host in group] + list(retiring)
        said: list[str] = []
        deadline = time.monotonic() + FORM_WAIT
        with self._cluster_connections(database, hosts) as connections:
            while True:
                formed, done, growing = self._form_round(connections, shards, retiring, database.typed_spec)
                said += done
                if formed or not growing or time.monotonic() >= deadline:
                    break  # first formation and repairs (a failover to wait for) go a pass at a time
                time.sleep(FORM_POLL)
        return formed, said[:6] + ([f"{len(said) - 6} more"] if len(said) > 6 else [])

    def _form_round(self, connections: dict[str, redis.Redis], shards: list[list[str]],
                    retiring: list[str], spec: DatabaseSpec) -> tuple[bool, list[str], bool]:
        """One round of formation steps; (formed, what was done now, whether new shards are joining a formed
        cluster with every node up: the case worth waiting for, as a reshard follows)."""
        views = {host: parse_nodes(c.execute_command("CLUSTER", "NODES")) for host, c in connections.items()}
        owning = {host for host, view in views.items() if (me := myself(view)) is not None and me.slots}
        down = any(node.failed or "fail?" in node.flags for view in views.values() for node in view)
        growing = bool(owning) and any(not owning & set(group) for group in shards) and not down
        steps = formation.plan(shards, views, retiring)
        for step in steps:
            connection = connections[step.host]
            try:
                if step.action == formation.FORGET:
                    connection.execute_command("CLUSTER", "FORGET", step.argument)
                elif step.action == formation.MEET:
                    connection.execute_command("CLUSTER", "MEET", *self._meet_address(step.argument, spec))
                elif step.action == formation.ADD_SLOTS:
                    connection.execute_command("CLUSTER", "ADDSLOTSRANGE", *step.argument)
                else:
                    connection.execute_command("CLUSTER", "REPLICATE", step.argument)
            except redis.ResponseError:
                if step.action == formation.ADD_SLOTS:
                    raise
                continue  # a handshake or forget already under way: the next round looks again
        if steps:
            return False, [step.says for step in steps], growing
        # Formed: every pod of a shard but its master replicates (a new shard's master owns no slots
        # until the reshard gives it some), and every node knows every pod and serves every slot.
        me = {host: myself(view) for host, view in views.items()}
        roles_set = all(me[h] is not None and (me[h].slots or me[h].master_id)  # type: ignore[union-attr]
                        for group in shards for h in group if h != formation.shard_master(group, me))
        return roles_set and all(settled(parse_info(c.execute_command("CLUSTER", "INFO")), len(connections))
                                 for c in connections.values()), [], growing

    def reshard(self, database, shards: list[list[str]], retiring: list[str],
                progress: ReshardProgress | None = None) -> tuple[list[str], int]:
        """Move slots online until shards 0..n-1 own an even share and the retiring pods none: first what a
        killed worker left half moved, then the fewest slots (dataplane/migration.py, batched or Valkey's
        atomic migration). Returns (what was done, slots the retiring pods still own)."""
        hosts = [host for group in shards for host in group] + list(retiring)
        done: list[str] = []
        with self._cluster_connections(database, hosts) as connections:
            views = {host: parse_nodes(c.execute_command("CLUSTER", "NODES")) for host, c in connections.items()}
            me = {host: myself(view) for host, view in views.items()}
            view = views[shards[0][0]]
            mover = self._mover(database)
            settle_atomic(connections.values())
            finished = finish_open_moves(mover, [n for n in me.values() if n and n.is_master], view)
            if finished:
                done.append(f"{finished} slots left half moved by an interrupted reconcile were finished")
                views = {host: parse_nodes(c.execute_command("CLUSTER", "NODES"))
                         for host, c in connections.items()}
                me = {host: myself(view) for host, view in views.items()}
            owners: dict[int, Node] = {}
            for index, group in enumerate(shards):
                master = formation.shard_master(group, me)
                if master is None:
                    raise DataPlaneError(f"shard {index} of {database.name} has no master to take slots yet")
                owners[index] = me[master]  # type: ignore[assignment]
            donors = [n for h in retiring if (n := me[h]) is not None and n.is_master and n.slots]
            owners.update({len(shards) + k: node for k, node in enumerate(donors)})
            moved = reshard(mover, owners, len(shards), progress)
            if moved:
                done.append(moved.says)
            left = sum(len(node.slots) for h in retiring
                       if (node := myself(parse_nodes(connections[h].execute_command("CLUSTER", "NODES")))))
        return done, left

    def _mover(self, database) -> SlotMover:
        """Slot moves between masters, reached at the addresses Redis Cluster announces."""
        login = pod_login(database)

        def dial(node: Node) -> redis.Redis:
            return self._connect(node.host, node.port, login.password, username=login.username,
                                 timeout=MIGRATION_TIMEOUT)
        # With tls-cluster, MIGRATE connects over TLS: it must name the target's TLS port (IOERR on the plain one).
        port = cluster_ports(database.typed_spec)[0]
        return SlotMover(dial, auth=login.password, auth_user=login.username,
                         migrate_port=(lambda node: port) if port != REDIS_PORT else None)

    @contextlib.contextmanager
    def _cluster_connections(self, database, hosts: list[str]):
        """A connection per pod; any Redis failure inside is a DataPlaneError naming the database."""
        connections: dict[str, redis.Redis] = {}
        try:
            connections.update({host: self._connect_pod(database, host) for host in hosts})
            yield connections
        except (redis.RedisError, TargetError) as exc:
            raise DataPlaneError(f"the Redis Cluster of {database.name}: {exc}") from exc
        finally:
            for connection in connections.values():
                connection.close()

    @staticmethod
    def _myself(connection: redis.Redis) -> Node:
        me = myself(parse_nodes(connection.execute_command("CLUSTER", "NODES")))
        if me is None:
            raise redis.RedisError("CLUSTER NODES has no 'myself' line")
        return me

    def _meet_address(self, host: str, spec: DatabaseSpec) -> tuple[str, int, int]:
        """IP, port and bus port a node is met at (CLUSTER MEET needs an IP, not a name; with tls-cluster the
        TLS port, from which Redis derives the bus port)."""
        port, bus = cluster_ports(spec)
        real_host, port = self.address(host, port)
        _, bus_port = self.address(host, bus)
        return socket.gethostbyname(real_host), port, bus_port


def pod_login(database) -> internal.Login:
    """How the control plane, the sentinels and the pods themselves log in to a database's pods on Kubernetes: the
    control plane's own user, on every pod whether the default user is on or off (docs/acl.md)."""
    return internal.Login(ADMIN_USER, internal.admin_password(database))


def sentinel_user_passwords(database) -> list[str]:
    """The passwords of a database's sentinel user: the pods' own user's and, while the default user is on, the
    database password (which pods started before their own user existed ask with)."""
    return [pod_login(database).password] + ([database.password] if database.typed_spec.default_user else [])


def pod_user_hashes(database) -> list[str]:
    """The password hashes of the database's sentinel user when it is up to date, as ACL GETUSER shows them."""
    return sorted(hashlib.sha256(password.encode()).hexdigest() for password in sentinel_user_passwords(database))


def _pod_name(host: str) -> str:
    return host.split(".", 1)[0]


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False
