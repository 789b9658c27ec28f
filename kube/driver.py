"""The Kubernetes target: render -> apply what differs -> rig services -> roll -> observe.

One instance per Target (see core.drivers.driver_for). The engine (engine/reconcile.py) owns
locking, status writes, events and retries; this driver only touches Kubernetes and the data plane.
"""
from __future__ import annotations

import base64
import contextlib
import logging
import time

import redis
from django.conf import settings

from access import services as access_services
from access.plan import ADMIN_USER, admin_user, default_user
from clusters.certificates import forget_server_certificate
from core.drivers import (
    Condition,
    ConnectionInfo,
    Happening,
    Observation,
    Probe,
    ShardSource,
    cluster_mutual_tls_problems,
    common_spec_problems,
    kept_on_failure,
    register_driver,
    sharding_change_problems,
    tls_mode_change_problems,
)
from core.errors import SpecNotRealisable, TargetError
from dataplane.certificates import not_after
from dataplane.cluster import MASTER
from engine import recovery
from engine.progress import report
from kube.render.cluster import QUORUM_COMPONENT
from kube.render.database import (
    REDIS_PORT,
    database_manifests,
    database_port,
    live_config,
    service_names,
    shard_index,
    statefulset_names,
    tls_files,
    tls_secret_name,
    tls_settings,
)
from kube.render.inputs import ClusterInputs, DatabaseInputs
from kube.render.monitoring import RESOURCES, monitoring_manifests
from kube.render.tls_sentinels import TLS_COMPONENT, render_cluster, render_tls_group, watched_by_tls_group
from kube.render.tls_sentinels import group_name as tls_group_name
from specs.database import DatabaseSpec
from targets import managed
from targets.certificates import client_certificate_problems, provided_certificate

from . import rigger, rollout, shards
from .access import check_access
from .apply import APPLIED_HASH, APPLY_ORDER, Applier
from .client import DEFAULT_TIMEOUT, KubeApi, build_api_client
from .crds import install_crds
from .crsync.access import sync_access
from .crsync.mirror import Mirror
from .crsync.sync import sync_target
from .dataplane import DataPlane, DataPlaneError, pod_login
from .live import LiveReader, named, of_kind
from .podspec import (
    CLUSTER_LABEL,
    COMPONENT_LABEL,
    CONFIG_HASH_ANNOTATION,
    DATABASE_LABEL,
    MANAGED_BY,
    cluster_domain,
    content_hash,
)
from .status import cluster_observation, database_observation, pod_health
from .versions import available_versions, module_problems, resolve_version

log = logging.getLogger(__name__)

LIVE_CONFIG_ANNOTATION = "redis.io/live-config-hash"
MONITORING_RECHECK_SECONDS = 60
DATAPLANE_NEEDED = ("need the data plane: the control plane reaches the pods (settings in_cluster, "
                    "dataplane_nameserver or dataplane_addresses; docs/kubernetes.md)")


@register_driver("kubernetes")
class KubernetesDriver:
    def __init__(self, target):
        self.target = target
        self.settings = dict(target.settings or {})
        self._api: KubeApi | None = None
        self.live = LiveReader(lambda: self.api)
        self.dataplane = DataPlane(self.settings)
        self.resources = Mirror(lambda: self.api, target)
        self._monitoring: tuple[float, tuple[str, ...]] | None = None

    @property
    def api(self) -> KubeApi:
        if self._api is None:
            timeout = float(self.settings.get("request_timeout", DEFAULT_TIMEOUT))
            self._api = KubeApi(build_api_client(self.target.connection_settings()), timeout=timeout)
        return self._api

    # --- what the write path asks ------------------------------------------------------------------
    def redis_versions(self) -> list[str]:
        return available_versions(self.target)

    def connection_info(self, database) -> ConnectionInfo:
        port = database_port(database)
        namespace = database.namespace
        return ConnectionInfo(
            host=f"{database.name}.{namespace}.svc.{cluster_domain(self.target)}",
            port=port,
            service_names=service_names(database),
            hints=[f"kubectl -n {namespace} port-forward svc/{database.name} {port}:{port}"],
        )

    def database_spec_problems(self, wanted: DatabaseSpec, current: DatabaseSpec | None,
                               cluster=None) -> dict[str, str]:
        problems = common_spec_problems(wanted, "kubernetes", tls_modes=("disabled", "enabled", "replica_ssl"))
        problems.update(tls_mode_change_problems(wanted, current))  # tls-cluster moves the bus port
        problems.update(_replica_ssl_problems(wanted, current, cluster))
        problems.update(client_certificate_problems(wanted.client_certificates))
        problems.update(cluster_mutual_tls_problems(wanted))  # refused on a Redis Cluster (docs/tls.md)
        if current is not None and current.default_user != wanted.default_user and not self.dataplane.enabled:
            problems["spec.defaultUser"] = f"changes in place on a kubernetes target {DATAPLANE_NEEDED}"
        problems.update(module_problems(wanted.modules, resolve_version(wanted.redis_version, self.target),
                                        self.target))
        problems.update(sharding_change_problems(wanted, current))
        if wanted.backup and not self.dataplane.enabled:
            problems["spec.backup"] = f"backups on a kubernetes target {DATAPLANE_NEEDED}"
        if wanted.follows and not self.dataplane.enabled:
            problems["spec.replicaSources"] = f"following a source on a kubernetes target {DATAPLANE_NEEDED}"
        return problems

    def database_ports(self) -> range:
        low, high = settings.CONTROLPLANE_KUBERNETES_DATABASE_PORTS
        return range(int(low), int(high) + 1)

    def free_database_port(self, cluster, taken: set[int]) -> int:
        for port in self.database_ports():
            if port not in taken:
                return port
        raise TargetError(f"no free database port left on target {self.target.name}")

    @contextlib.contextmanager
    def batch(self):
        with self.live.batch(), self.resources.batch():
            yield

    def probe(self) -> Probe:
        report = check_access(self.api)
        return Probe(report.server_version, [str(p) for p in report.missing])

    def install_definitions(self) -> list[str]:
        return install_crds(self.api)

    def take_in(self) -> list[str]:
        """Every REC/REDB and access custom resource and stored object of this target in step, once (kube/crsync)."""
        return [f"{step.kind} {step.namespace}/{step.name}: {', '.join(step.actions)}"
                for step in sync_target(self.api, self.target) + sync_access(self.api, self.target)]

    def mirror(self, obj) -> None:
        """The object as its REC/REDB custom resource, status included (kube/crsync)."""
        self.resources.after_reconcile(obj)

    # --- what backups, restores and samples reach (docs/backups.md, docs/metrics.md) -----------------
    def data_address(self, database) -> tuple[str, int]:
        """The master pod (a master of a sharded database), as the data plane reaches it."""
        master = self._master_hosts(database)[0]
        try:
            return self.dataplane.address(master, REDIS_PORT)
        except redis.ConnectionError as exc:
            raise TargetError(str(exc)) from exc

    def backup_sources(self, database) -> list[ShardSource]:
        pods = self.live.database_pods(database)
        masters = self._master_hosts(database, pods)
        try:
            return self.dataplane.shard_sources(database, masters, [_pod_host(database, p["metadata"]["name"])
                                                                    for p in pods])
        except DataPlaneError as exc:
            raise TargetError(str(exc)) from exc

    def database_is_back(self, database) -> bool:
        """Each shard has a ready pod the database's reconcile labelled master (the Service routes to it; pods
        the StatefulSets brought back carry no label before that reconcile), and with a data plane each of
        them answers ROLE as a master."""
        try:
            pods = self.live.database_pods(database)
            masters = [p["metadata"]["name"] for p in pods
                       if (p["metadata"].get("labels") or {}).get(rigger.ROLE_LABEL) == MASTER
                       and pod_health(p, []).ready]
            if len(masters) < database.typed_spec.shard_count:
                return False
            if not self.dataplane.enabled:
                return True
            hosts = [_pod_host(database, name) for name in masters]
            roles = self.dataplane.roles(database, hosts)
        except (TargetError, DataPlaneError, redis.RedisError):
            return False
        return all(roles.get(host) == MASTER for host in hosts)

    def secret_values(self, database, name: str) -> dict[str, str]:
        """The Secret `name` in the database's namespace, decoded ({} when there is none)."""
        secret = self.api.get("Secret", database.namespace, name)
        return {k: base64.b64decode(v).decode() for k, v in ((secret or {}).get("data") or {}).items()}

    def _master_hosts(self, database, pods: list[dict] | None = None) -> list[str]:
        """Data-plane names of the ready pods the services rigger labelled master; TargetError when there is
        none or the data plane is off (nothing waits on a timeout)."""
        if not self.dataplane.enabled:
            raise TargetError(DATAPLANE_NEEDED)
        pods = self.live.database_pods(database) if pods is None else pods
        masters = sorted(p["metadata"]["name"] for p in pods
                         if (p["metadata"].get("labels") or {}).get(rigger.ROLE_LABEL) == MASTER
                         and pod_health(p, []).ready)
        if not masters:
            raise TargetError(f"database {database.name} has no ready master pod right now")
        return [_pod_host(database, name) for name in masters]

    # --- clusters ----------------------------------------------------------------------------------
    def apply_cluster(self, cluster) -> Observation:
        spec = cluster.typed_spec
        live = self.live.cluster_objects(cluster)
        if not live:
            self._ensure_namespace(cluster.namespace)
        adopted = self._adopt_existing_credentials(cluster)
        desired = render_cluster(cluster)
        result = Applier(self.api).sync(desired, _applied_kinds(live), resize_allowed=spec.enable_volume_resize,
                                        spec_unchanged=cluster.observed_generation == cluster.generation)
        statefulset = named(live, "StatefulSet", cluster.name)
        pods = [p for p in of_kind(live, "Pod")  # the quorum members (not the TLS group's, rolled by nobody yet)
                if (p["metadata"].get("labels") or {}).get(COMPONENT_LABEL) == QUORUM_COMPONENT]
        claims = of_kind(live, "PersistentVolumeClaim")
        views = [rollout.PodView(p["metadata"]["name"], _config_hash(p), pod_health(p, claims).ready) for p in pods]
        step = rollout.plan(views, _template_hash(desired, cluster.name), spec.nodes) if statefulset else _no_rollout()
        happenings = adopted + list(result.happenings)
        if step.action in (rollout.REPLACE, rollout.FAILOVER):
            happenings.append(self._replace_pod(cluster.namespace, step))
        elif step.action == rollout.DONE:
            happenings += self._roll_tls_sentinels(cluster, desired, live, claims)
        answering = self.dataplane.sentinels_answering(cluster) if self.dataplane.enabled and pods else None
        observation = cluster_observation(statefulset, pods, claims, spec.nodes, step, sentinels_answering=answering)
        if spec.cluster_recovery and observation.state == managed.RUNNING:
            # The StatefulSets bring pods back on their volumes by themselves and the start-up guard picks
            # each master; each database comes back through its own reconcile (sentinel registration,
            # labels, live settings), asked for here and never run under the cluster's lock (engine/recovery.py).
            step = recovery.recovery_step(cluster, self.database_is_back)
            happenings += step.happenings
            observation.conditions.append(step.condition)
            observation.details.update(step.details)
            observation.settled = False  # waiting for the databases, or the cleared flag bumped the generation
        observation.happenings = happenings
        if result.changed:
            observation.settled = False
        return observation

    def _roll_tls_sentinels(self, cluster, desired: list[dict], live: list[dict],
                            claims: list[dict]) -> list[Happening]:
        """After the plain quorum, the TLS group (a new image, start script): one member at a time, each once the
        others are ready. Its StatefulSet is OnDelete like the plain one's."""
        name = tls_group_name(cluster)
        if named(live, "StatefulSet", name) is None or not any(m["metadata"]["name"] == name for m in desired):
            return []
        members = [p for p in of_kind(live, "Pod")
                   if (p["metadata"].get("labels") or {}).get(COMPONENT_LABEL) == TLS_COMPONENT]
        views = [rollout.PodView(p["metadata"]["name"], _config_hash(p), pod_health(p, claims).ready) for p in members]
        step = rollout.plan(views, _template_hash(desired, name), cluster.typed_spec.nodes)
        if step.action not in (rollout.REPLACE, rollout.FAILOVER):
            return []
        return [self._replace_pod(cluster.namespace, step)]

    def _ensure_tls_sentinels(self, cluster, live: list[dict]) -> None:
        """A replica_ssl database's pods ask the TLS sentinel group: created with the database, not a cluster pass
        later (the cluster's own pass keeps it while such a database exists, and removes it after)."""
        desired = render_tls_group(cluster, ClusterInputs.of(cluster))
        wanted = {(m["kind"], m["metadata"]["name"]) for m in desired}
        mine = [o for o in live if (o["kind"], o["metadata"]["name"]) in wanted]
        Applier(self.api).sync(desired, mine)

    def delete_cluster(self, cluster) -> bool:
        return self._delete_objects(self.api.list, cluster.namespace,
                                    {"app.kubernetes.io/managed-by": MANAGED_BY, "redis.io/cluster": cluster.name},
                                    delete_data=cluster.delete_data, skip_database_objects=True)

    # --- databases ---------------------------------------------------------------------------------
    def apply_database(self, database) -> Observation:
        cluster = database.cluster
        spec = database.typed_spec
        live = self.live.database_objects(database)  # first: an API failing this pass fails here, at no cost
        monitoring = self._monitoring_kinds()
        live += self.live.database_objects(database, monitoring)
        self._check_sharding_realisable(spec)
        self._check_secret_is_ours(database, spec, live)
        refused = client_certificate_problems(spec.client_certificates)
        if refused:
            raise SpecNotRealisable("; ".join(refused.values()))
        if watched_by_tls_group(spec):
            self._ensure_tls_sentinels(cluster, self.live.cluster_objects(cluster))
        provided = provided_certificate(database) if spec.tls_mode != "disabled" else None  # TargetError: missing
        inputs = DatabaseInputs.of(database, provided)  # a server certificate due for renewal is renewed here
        desired = database_manifests(inputs)
        if monitoring:
            desired += monitoring_manifests(inputs, database.spec.get("alertSettings"))
        names = statefulset_names(database)
        # Shards being removed keep their StatefulSets until their slots have moved off (_shape_cluster).
        layout = shards.group(names, of_kind(live, "StatefulSet") if spec.is_cluster else [],
                              of_kind(live, "Pod"))
        keep = {id(s) for s in layout.retiring_sets}
        result = Applier(self.api).sync(desired, [o for o in _applied_kinds(live) if id(o) not in keep],
                                        resize_allowed=cluster.typed_spec.enable_volume_resize,
                                        spec_unchanged=database.observed_generation == database.generation)
        with kept_on_failure(list(result.happenings)) as happenings:  # a failure keeps what was done
            conditions: list[Condition] = []
            statefulset = named(live, "StatefulSet", names[0])
            claims = of_kind(live, "PersistentVolumeClaim")
            pods = layout.wanted if spec.is_cluster else of_kind(live, "Pod")
            masters: list[str] = []
            if pods:
                masters, more = self._rig(database, spec, pods + layout.retiring)
                happenings += more
                happenings += self._apply_live_config(database, pods + layout.retiring, claims, conditions)
                happenings += self._apply_users(database, pods + layout.retiring, claims,
                                                _template_hash(desired, names[0]), conditions)
                happenings += self._register(database, spec, masters)
                happenings += self._load_tls(database, inputs, pods + layout.retiring, claims, conditions)
                if spec.is_cluster:
                    happenings += self._shape_cluster(database, layout, claims, conditions)
            views = [rollout.PodView(p["metadata"]["name"], _config_hash(p), pod_health(p, claims).ready,
                                     master=p["metadata"]["name"] in masters) for p in pods]
            if statefulset is None:
                step = _no_rollout()
            else:
                step = rollout.plan(views, _template_hash(desired, names[0]), spec.process_count)
                cluster_busy = cluster.status.get("rollout", "done") != "done" \
                    or cluster.observed_generation < cluster.generation
                if step.action != rollout.DONE and cluster_busy:
                    step = rollout.Step(rollout.WAIT, None, f"waiting for cluster {cluster.name} to finish its rollout "
                                        "first", step.updated, step.total)
            if step.action in (rollout.REPLACE, rollout.FAILOVER):
                happenings.append(self._roll_database_pod(database, step, pods))
            expires = f"{not_after(inputs.tls.cert_pem):%Y-%m-%dT%H:%M:%SZ}" if inputs.tls else ""
            details = {"redisVersion": _image_version(desired, names[0]), "tlsCertificateExpires": expires}
            observation = database_observation(statefulset, pods, claims, spec.process_count, step,
                                               ever_active=bool(database.status.get("everRunning")),
                                               masters=[m for m in masters if any(p["metadata"]["name"] == m
                                                                                  for p in pods)],
                                               extra=conditions, details=details)
            observation.happenings = happenings
            if any(c.type in ("ClusterFormed", "Resharding") and c.status != "True" for c in conditions):
                if observation.state == managed.DB_ACTIVE:
                    observation.state = managed.DB_CHANGE_PENDING if database.status.get("everRunning") \
                        else managed.DB_PENDING
                observation.settled = False
            if result.changed or any(c.type == "TlsLoaded" and c.status == "False" for c in conditions):
                observation.settled = False
            return observation

    def delete_database(self, database) -> bool:
        self.dataplane.forget(database)
        selector = {"app.kubernetes.io/managed-by": MANAGED_BY, "redis.io/cluster": database.cluster.name,
                    "redis.io/database": database.name}
        gone = self._delete_objects(self.api.list, database.namespace, selector, delete_data=database.delete_data)
        if gone:
            forget_server_certificate(database.cluster, database.name)
        return gone

    # --- helpers -----------------------------------------------------------------------------------
    def _ensure_namespace(self, namespace: str) -> None:
        if self.api.get("Namespace", None, namespace) is not None:
            return
        if not self.settings.get("create_namespaces", True):
            raise TargetError(f"namespace {namespace} does not exist and this target may not create namespaces")
        self.api.apply({"apiVersion": "v1", "kind": "Namespace",
                        "metadata": {"name": namespace, "labels": {"app.kubernetes.io/managed-by": MANAGED_BY}}})

    def _adopt_existing_credentials(self, cluster) -> list[Happening]:
        """A Secret `<rec>` that was there before the control plane keeps its password (as the operator does):
        the stored credentials take its values before the first apply."""
        if cluster.status.get("everRunning") or cluster.observed_generation:
            return []
        existing = self.api.get("Secret", cluster.namespace, cluster.name)
        if existing is None or APPLIED_HASH in (existing["metadata"].get("annotations") or {}):
            return []
        data = {k: base64.b64decode(v).decode() for k, v in (existing.get("data") or {}).items()}
        if not data.get("password"):
            return []
        cluster.admin_password = data["password"]
        cluster.admin_username = data.get("username") or cluster.admin_username
        type(cluster).objects.filter(pk=cluster.pk).update(admin_password=cluster.admin_password,
                                                           admin_username=cluster.admin_username)
        return [Happening("CredentialsAdopted", f"Secret {cluster.name} already existed; its credentials are kept")]

    def _rig(self, database, spec: DatabaseSpec, pods: list[dict]) -> tuple[list[str], list[Happening]]:
        names = [p["metadata"]["name"] for p in pods]
        current = [p["metadata"]["name"] for p in pods
                   if (p["metadata"].get("labels") or {}).get(rigger.ROLE_LABEL) == MASTER]
        sentinel_master = self.dataplane.master_host(database) if not spec.is_cluster else None
        masters = rigger.choose_masters(names, current, sentinel_master, spec.shard_count)
        if spec.is_cluster and self.dataplane.enabled:
            # Redis Cluster decides who is master (after a CLUSTER FAILOVER or a failure): follow it.
            roles = self.dataplane.roles(database, [_pod_host(database, n) for n in names])
            answered = [n for n in names if _pod_host(database, n) in roles]
            if len(answered) == len(names) and any(r == MASTER for r in roles.values()):
                masters = sorted(n for n in names if roles[_pod_host(database, n)] == MASTER)
        labelled = masters
        if sentinel_master and masters and self.dataplane.enabled:
            # As the pods' own rigger does (kube/render/rigger.py): the pod the sentinels name is labelled
            # master only once its Redis says so, so the two never take turns on the label.
            host = _pod_host(database, masters[0])
            if self.dataplane.roles(database, [host]).get(host, MASTER) != MASTER:
                labelled = []
        happenings = rigger.rig(self.api, pods, labelled)
        if spec.is_cluster:
            happenings += _shard_failovers(pods, database.status.get("master") or "", masters,
                                           rolling=database.status.get("rollout", "done") != "done")
        return masters, happenings

    def _register(self, database, spec: DatabaseSpec, masters: list[str]) -> list[Happening]:
        """The cluster's sentinels watch the database, logging in as the pods' own user: after the ACL sync,
        which gives every pod that user (pods started before it existed did not have it)."""
        if not self.dataplane.enabled or spec.is_cluster or not masters:
            return []
        try:
            if self.dataplane.monitor(database, _pod_host(database, masters[0])):
                return [Happening("SentinelsRegistered", "the cluster's sentinels now watch this database and fail "
                                  "it over")]
        except DataPlaneError as exc:
            raise TargetError(str(exc)) from exc
        return []

    def _apply_users(self, database, pods: list[dict], claims: list[dict], template: str,
                     conditions: list[Condition]) -> list[Happening]:
        """The data-plane users (docs/acl.md) on every ready pod, when the data plane is reachable: those the
        access objects grant, the pods' own user, and the default user with its password while it is on. The
        default user is turned off only once every pod runs the current template: a pod rendered before the
        pods had their own user logs in (probes, replication) as the default user."""
        if not self.dataplane.enabled:
            return []
        ready = [_pod_host(database, p["metadata"]["name"]) for p in pods if pod_health(p, claims).ready]
        wanted = {**access_services.wanted_users(database), ADMIN_USER: admin_user(pod_login(database).password)}
        if database.typed_spec.default_user:
            wanted["default"] = default_user(database.password)
        current = all(_config_hash(p) == template for p in pods)
        try:
            changed, still_on = self.dataplane.sync_users(database, ready, wanted, default_off=current)
        except DataPlaneError as exc:
            raise TargetError(str(exc)) from exc
        if still_on:
            conditions.append(Condition("DefaultUser", "False", "WaitingForRollout", "the default user is turned "
                                        "off once every pod runs the current template (a pod rendered before may "
                                        "log in as the default user): still on in " + ", ".join(
                                            host.split(".", 1)[0] for host in still_on)))
        return [Happening("AclApplied", f"{host.split('.', 1)[0]}: {what}") for host, what in changed]

    def _load_tls(self, database, inputs: DatabaseInputs, pods: list[dict], claims: list[dict],
                  conditions: list[Condition]) -> list[Happening]:
        """tlsMode on: every ready pod's Redis serves the pair (and client bundle) Secret <db>-tls holds now. A
        renewal or a changed bundle is new file names there; once the kubelet has refreshed a pod's mounted
        Secret, one CONFIG SET loads them live (same run_id, open connections stay). Until then the pod is
        asked again at the next pass; without a data plane, a pod loads them when it restarts."""
        if inputs.tls is None:
            return []
        wanted = tls_settings(tls_files(inputs))
        if not self.dataplane.enabled:
            conditions.append(Condition("TlsLoaded", "Unknown", "DataPlaneUnavailable", "a renewed certificate is "
                                        "loaded by each pod's Redis when it restarts (no data plane to CONFIG SET it)"))
            return []
        loaded, waiting, renewed = [], [], False
        for pod in pods:
            if not pod_health(pod, claims).ready:
                continue
            name = pod["metadata"]["name"]
            try:
                before = self.dataplane.load_tls(database, _pod_host(database, name), wanted)
            except DataPlaneError as exc:
                waiting.append(f"{name} ({exc})")
                continue
            if before is not None:
                loaded.append(name)
                renewed = renewed or before != wanted["tls-cert-file"]
        happenings = []
        if loaded and renewed:
            happenings.append(Happening("CertificateRenewed", f"a renewed server certificate (valid until "
                                        f"{not_after(inputs.tls.cert_pem):%Y-%m-%d}) loaded live with CONFIG SET on "
                                        f"{', '.join(loaded)}; no restart"))
        elif loaded:
            happenings.append(Happening("TlsLoaded", f"the client CA bundle and TLS settings of Secret "
                                        f"{tls_secret_name(database)} loaded live with CONFIG SET on "
                                        f"{', '.join(loaded)}; no restart"))
        if waiting:
            conditions.append(Condition("TlsLoaded", "False", "WaitingForKubelet",
                                        "Secret " + tls_secret_name(database) + " not yet refreshed in "
                                        + "; ".join(waiting)))
        return happenings

    def _apply_live_config(self, database, pods: list[dict], claims: list[dict],
                           conditions: list[Condition]) -> list[Happening]:
        """CONFIG SET the live settings on ready pods that have not had this version of them yet."""
        wanted = content_hash(live_config(database.typed_spec.redis_config()))
        if not self.dataplane.enabled:
            conditions.append(Condition("LiveConfig", "Unknown", "DataPlaneUnavailable",
                                        "the control plane cannot reach Redis in this target; live settings "
                                        "(maxmemory, policy, persistence) take effect at the next pod restart"))
            return []
        stale = [p for p in pods if pod_health(p, claims).ready
                 and (p["metadata"].get("annotations") or {}).get(LIVE_CONFIG_ANNOTATION) != wanted]
        if not stale:
            return []
        try:
            self.dataplane.config_set(database, [_pod_host(database, p["metadata"]["name"]) for p in stale])
        except DataPlaneError as exc:
            raise TargetError(str(exc)) from exc
        for pod in stale:
            self.api.merge_patch("Pod", database.namespace, pod["metadata"]["name"],
                                 {"metadata": {"annotations": {LIVE_CONFIG_ANNOTATION: wanted}}})
        return [Happening("ConfigApplied", f"live settings applied with CONFIG SET on "
                          f"{', '.join(p['metadata']['name'] for p in stale)}")]

    def _check_sharding_realisable(self, spec: DatabaseSpec) -> None:
        if spec.is_cluster and not self.dataplane.enabled:
            raise SpecNotRealisable("shardCount > 1 needs the data plane on a kubernetes target (in_cluster or "
                                    "dataplane_addresses or dataplane_nameserver) to form the Redis Cluster")

    def _check_secret_is_ours(self, database, spec: DatabaseSpec, live: list[dict]) -> None:
        """`databaseSecretName` may name a Secret someone else made (an application's, another database's):
        it is never taken over nor overwritten. Ours is among the database's live objects (listed by its
        labels); one that is not but exists makes the spec `Invalid`, and nothing is applied."""
        if named(live, "Secret", spec.secret_name) is not None:
            return
        existing = self.api.get("Secret", database.namespace, spec.secret_name)
        if existing is None:
            return
        labels = existing["metadata"].get("labels") or {}
        owner = "someone else (it was not created by the control plane)"
        if labels.get("app.kubernetes.io/managed-by") == MANAGED_BY:
            owner = f"database {labels[DATABASE_LABEL]}" if labels.get(DATABASE_LABEL) \
                else f"cluster {labels.get(CLUSTER_LABEL, '?')}"
        raise SpecNotRealisable(f"databaseSecretName: Secret {spec.secret_name} already exists in namespace "
                                f"{database.namespace} and belongs to {owner}; it is never taken over. Choose "
                                "another name, or delete that Secret")

    def _shape_cluster(self, database, layout: shards.ShardPods, claims: list[dict],
                       conditions: list[Condition]) -> list[Happening]:
        """Once every shard's pods are ready: form the Redis Cluster (a step per reconcile until formed), move
        slots online until the layout matches shardCount, then remove the StatefulSets of drained shards.
        Level-triggered: every pass starts from what CLUSTER NODES says, so a pass killed mid-move is
        finished by the next one."""
        spec = database.typed_spec
        wanted = layout.wanted
        if any(len(group) < spec.processes_per_shard for group in layout.shards) \
                or not all(pod_health(p, claims).ready for p in wanted):
            conditions.append(Condition("ClusterFormed", "False", "WaitingForPods",
                                        "the Redis Cluster is formed once every shard process is ready"))
            return []
        host_groups = [[_pod_host(database, p["metadata"]["name"]) for p in group] for group in layout.shards]
        answering = [p for p in layout.retiring if pod_health(p, claims).ready]
        retiring = [_pod_host(database, p["metadata"]["name"]) for p in answering]
        try:
            formed, steps = self.dataplane.form_cluster(database, host_groups, retiring)
            formation = [Happening("ClusterFormation", "; ".join(steps))] if steps else []
            if not formed:
                conditions.append(Condition("ClusterFormed", "False", "Forming",
                                            "nodes are meeting and taking slots"))
                return formation
            done, left = self.dataplane.reshard(database, host_groups, retiring, self._progress(database))
        except DataPlaneError as exc:
            raise TargetError(str(exc)) from exc
        conditions.append(Condition("ClusterFormed", "True", "SlotsAssigned",
                                    f"{spec.shard_count} shards own all 16384 slots"))
        happenings = formation + [Happening("Resharded", said) for said in done]
        if not layout.retiring_sets:
            return happenings
        gone = ", ".join(s["metadata"]["name"] for s in layout.retiring_sets)
        if left or len(answering) < len(layout.retiring):
            conditions.append(Condition("Resharding", "False", "Draining",
                                        f"{gone}: {left} slots still to move off before removal"))
            return happenings
        for statefulset in layout.retiring_sets:
            # Their slots live elsewhere now; their volumes hold nothing a later shard should start from.
            self.api.delete("StatefulSet", database.namespace, statefulset["metadata"]["name"])
            for claim in shards.claims_of(statefulset, claims):
                self.api.delete("PersistentVolumeClaim", database.namespace, claim["metadata"]["name"])
        conditions.append(Condition("Resharding", "False", "RemovingShards", f"{gone} drained and deleted"))
        return happenings + [Happening("ShardsRemoved", f"{gone} owned no slots any more: deleted with their "
                                       "volumes; their nodes are forgotten once their pods are gone")]

    @staticmethod
    def _progress(database):
        """status.resharding while slots move, streamed to the dashboard (the local target's shape)."""
        def progress(slots: int, slots_total: int, keys: int, keys_total: int) -> None:
            report(database, "resharding", {"shards": database.typed_spec.shard_count, "slotsMoved": slots,
                                            "slotsTotal": slots_total, "keysMoved": keys, "keysTotal": keys_total},
                   final=slots in (0, slots_total))
        return progress

    def _replace_pod(self, namespace: str, step: rollout.Step) -> Happening:
        self.api.delete("Pod", namespace, step.pod)
        return Happening("RollingUpdate", f"{step.progress} updated: {step.message}")

    def _roll_database_pod(self, database, step: rollout.Step, pods: list[dict]) -> Happening:
        if step.action == rollout.FAILOVER and self.dataplane.enabled:
            master = _pod_host(database, step.pod)
            others = [_pod_host(database, p["metadata"]["name"]) for p in pods if p["metadata"]["name"] != step.pod]
            try:
                if database.typed_spec.is_cluster:
                    self.dataplane.cluster_failover(database, master, [master, *others])
                else:
                    self.dataplane.failover(database, master, others)
            except DataPlaneError as exc:
                raise TargetError(str(exc)) from exc
            return Happening("RollingUpdate", f"{step.progress} updated: {step.message}")
        if step.action == rollout.FAILOVER:
            # No data plane: replacing the master makes the sentinels fail over to a replica themselves.
            step = rollout.Step(rollout.REPLACE, step.pod, f"replacing master {step.pod}; the sentinels fail over "
                                "to an updated replica", step.updated, step.total)
        return self._replace_pod(database.namespace, step)

    def _monitoring_kinds(self) -> tuple[str, ...]:
        """The Prometheus operator's kinds when this target serves them (asked of discovery once a minute)."""
        now = time.monotonic()
        if self._monitoring is None or now - self._monitoring[0] > MONITORING_RECHECK_SECONDS:
            self._monitoring = (now, tuple(RESOURCES) if self.api.serves(list(RESOURCES)) else ())
        return self._monitoring[1]

    def _delete_objects(self, lister, namespace: str, selector: dict, *, delete_data: bool,
                        skip_database_objects: bool = False) -> bool:
        """Delete in reverse apply order; True once nothing (but kept volumes) is left."""
        absent = set(RESOURCES) - set(self._monitoring_kinds())
        kinds = [k for k in reversed(APPLY_ORDER) if k != "Namespace" and k not in absent] \
            + ["Pod", "PersistentVolumeClaim"]
        remaining = 0
        for kind in kinds:
            if kind == "PersistentVolumeClaim" and not delete_data:
                continue
            for obj in lister(kind, namespace, selector):
                if skip_database_objects and "redis.io/database" in (obj["metadata"].get("labels") or {}):
                    continue
                remaining += 1
                if kind != "Pod":  # pods go with their StatefulSet
                    self.api.delete(kind, namespace, obj["metadata"]["name"])
        return remaining == 0


def _shard_failovers(pods: list[dict], before: str, masters: list[str], *, rolling: bool) -> list[Happening]:
    """A shard whose master is another pod than last observed: Redis Cluster failed it over (a warning), or a
    rollout switched it over (CLUSTER FAILOVER asked by the control plane)."""
    shard_of = {p["metadata"]["name"]: shard_index(p) for p in pods}
    was = {shard_of[name]: name for name in before.split(", ") if shard_of.get(name) is not None}
    happenings = []
    for name in masters:
        shard = shard_of.get(name)
        if shard is not None and shard in was and was[shard] != name:
            why = "the rollout switched it over" if rolling else "Redis Cluster failed it over"
            happenings.append(Happening("ShardFailover", f"{name} is now master of shard {shard} (was {was[shard]}): "
                                        f"{why}", warning=not rolling))
    return happenings


def _applied_kinds(live: list[dict]) -> list[dict]:
    return [obj for obj in live if obj["kind"] in APPLY_ORDER]


def _template_hash(desired: list[dict], name: str) -> str:
    statefulset = named(desired, "StatefulSet", name) or {}
    return statefulset["spec"]["template"]["metadata"]["annotations"][CONFIG_HASH_ANNOTATION]


def _image_version(desired: list[dict], name: str) -> str:
    statefulset = named(desired, "StatefulSet", name) or {}
    return statefulset["spec"]["template"]["spec"]["containers"][0]["image"].rsplit(":", 1)[-1]


def _config_hash(pod: dict) -> str:
    return (pod["metadata"].get("annotations") or {}).get(CONFIG_HASH_ANNOTATION, "")


def _pod_host(database, pod_name: str) -> str:
    return f"{pod_name}.{database.name}-headless.{database.namespace}.svc.{cluster_domain(database.cluster.target)}"


def _no_rollout() -> rollout.Step:
    return rollout.Step(rollout.DONE, None, "", 0, 0)


def _replica_ssl_problems(wanted: DatabaseSpec, current: DatabaseSpec | None, cluster=None) -> dict[str, str]:
    """replica_ssl on kubernetes: a replicated, non-sharded database, chosen at creation (moving a live database
    between the plain and the TLS sentinel group is not done yet), with the cluster CA's server certificates
    (the TLS sentinels check the shards' certificates against it)."""
    was, now = current is not None and current.tls_mode == "replica_ssl", wanted.tls_mode == "replica_ssl"
    if current is not None and was != now:
        return {"spec.tlsMode": f"cannot change from {current.tls_mode} to {wanted.tls_mode} on a kubernetes target: "
                                "replica_ssl is chosen when the database is created (its sentinels are the cluster's "
                                "TLS group); create a new database to change it"}
    if not now:
        return {}
    if wanted.is_cluster or not wanted.replication:
        return {"spec.tlsMode": "replica_ssl on a kubernetes target needs replication: true and no Redis Cluster "
                                "(it encrypts the link of a replica to its master); use tlsMode: enabled"}
    if cluster is not None and cluster.typed_spec.proxy_certificate_secret:
        return {"spec.tlsMode": "replica_ssl on a kubernetes target needs the cluster CA's server certificates: "
                                "the cluster names certificates.proxyCertificateSecretName; use tlsMode: enabled"}
    return {}
