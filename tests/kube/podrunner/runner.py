"""The pod runner: scheduler, kubelets, cluster DNS and kube-proxy for the API server emulator.

Attached to a `SimulatedController` (`controller.kubelet = runner`), it takes over what the
controller otherwise fakes: every Pod in the store is scheduled on one of a few named "nodes" (required
pod anti-affinity, node selectors and cordons honoured) and run for real by a `PodWorker`; pod status
comes from the processes and probes. Services get ClusterIPs on the pod bridge, forwarded to their
ready endpoints; Endpoints objects and DNS records follow pod readiness.

A background loop (every `interval` seconds) runs the StatefulSet controller and syncs pods,
Services, Endpoints and DNS, so the emulator behaves as a live cluster. Test helpers: `delete_pod`,
`kill` (e.g. kill -9 of a pod's main process), `oom_kill`, `drain`, `lose_node`, `exec`.
"""
from __future__ import annotations

import copy
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from ..emulator import KIND_TO_RESOURCE, SimulatedController, Store, _pod_ready
from .apiserver import ApiServerProxy
from .dns import ClusterDns
from .kubelet import PodWorker
from .network import Bridge
from .services import Endpoint, Forwarder, endpoints_object, selects, target_port

DOMAIN = "svc.cluster.local"


class PodRunner:
    def __init__(self, store: Store, controller: SimulatedController, *, nodes: int = 3,
                 restart_backoff: float = 10.0, interval: float = 0.2,
                 api_server: tuple[str, int] | None = None) -> None:
        self.store, self.controller = store, controller
        self.nodes = [f"node-{i}" for i in range(nodes)]
        self.cordoned: set[str] = set()
        self.lost_nodes: set[str] = set()
        self.restart_backoff, self.interval = restart_backoff, interval
        self.workdir = Path(tempfile.mkdtemp(prefix="cp-pods-"))
        self.bridge = Bridge()
        self.dns = ClusterDns(self.bridge.gateway)
        self.forwarder = Forwarder(lambda key: self._backends.get(key, []))
        # Pods reach the API server (the emulator at `api_server`) over TLS, as in-cluster clients do.
        self.api = ApiServerProxy(self.bridge.gateway, api_server, self.workdir / "apiserver") if api_server else None
        self.workers: dict[str, PodWorker] = {}  # pod uid -> worker (running or terminating)
        self.errors: list[str] = []
        self._backends: dict[tuple[str, int], list[Endpoint]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="pod-runner", daemon=True)
        self._sync_lock = threading.Lock()

    @property
    def nameserver(self) -> str:
        """The cluster DNS as `ip:port`, for the target setting `dataplane_nameserver`."""
        return f"{self.dns.address}:{self.dns.port}"

    # --- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> PodRunner:
        self.bridge.create()
        try:
            self.dns.start()
            self.forwarder.start()
            if self.api is not None:
                self.api.start()
        except Exception:
            self.bridge.destroy()
            raise
        self.store.allocate_cluster_ip = self.bridge.allocate_service_ip
        self.controller.kubelet = self
        self._thread.start()
        return self

    def stop(self) -> None:
        """Kill every pod at once (no grace: the test is over) and remove the network and all files."""
        self._stop.set()
        self._thread.join(timeout=10)
        for worker in list(self.workers.values()):
            worker.kill_now.set()
            worker.deleted.set()
        for worker in list(self.workers.values()):
            worker.join(timeout=15)
        self.forwarder.stop()
        if self.api is not None:
            self.api.stop()
        self.dns.stop()
        self.bridge.destroy()
        self.store.allocate_cluster_ip = None
        self.controller.kubelet = None
        shutil.rmtree(self.workdir, ignore_errors=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.sync()
            except Exception as exc:  # noqa: BLE001 - kept for the test to show; the loop goes on
                self.errors.append(f"sync: {type(exc).__name__}: {exc}")
            self._stop.wait(self.interval)

    # --- one pass --------------------------------------------------------------------------------------
    def sync(self) -> None:
        with self._sync_lock:
            self.controller.step()
            pods = self.store.all_of("Pod")
            live = {p["metadata"]["uid"]: p for p in pods}
            for uid, worker in list(self.workers.items()):
                if uid not in live or live[uid]["metadata"].get("deletionTimestamp"):
                    worker.deleted.set()
                if worker.finished.is_set():
                    del self.workers[uid]
                    if not worker.lost.is_set():  # a lost node confirms nothing: its pods stay until force-deleted
                        self._finalize(worker)
            for uid, pod in live.items():
                if uid not in self.workers and not pod["metadata"].get("deletionTimestamp"):
                    self._admit(pod)
            self._sync_services(self.store.all_of("Pod"))
            self._release_claims()

    def _release_claims(self) -> None:
        """A deleted PersistentVolumeClaim takes its data with it (reclaim policy Delete)."""
        root = self.workdir / "claims"
        if not root.is_dir():
            return
        for folder in root.glob("*/*"):
            if self.store.find("PersistentVolumeClaim", folder.parent.name, folder.name) is None \
                    and not any(w.namespace == folder.parent.name for w in self.workers.values()
                                if _claims_of(w.pod) & {folder.name}):
                shutil.rmtree(folder, ignore_errors=True)

    def _admit(self, pod: dict) -> None:
        meta = pod["metadata"]
        if not pod["spec"].get("nodeName"):
            node = self._schedule(pod)
            if node is None:
                return
            pod = self._bind(pod, node)
            if pod is None:
                return
        if pod["spec"]["nodeName"] in self.lost_nodes:
            return
        before = next((w for w in self.workers.values()
                       if (w.namespace, w.pod_name) == (meta["namespace"], meta["name"])), None)
        worker = PodWorker(self, pod, before)
        self.workers[meta["uid"]] = worker
        worker.start()

    def _finalize(self, worker: PodWorker) -> None:
        """Graceful deletion's last step, the kubelet's confirmation: remove the Terminating pod object
        (a delete with grace 0) once its containers have stopped."""
        with self.store.lock:
            pod = self.store.find("Pod", worker.namespace, worker.pod_name)
            if pod is not None and pod["metadata"]["uid"] == worker.uid and pod["metadata"].get("deletionTimestamp"):
                self.store.delete((*KIND_TO_RESOURCE["Pod"], worker.namespace, worker.pod_name), grace_seconds=0)

    # --- scheduling ------------------------------------------------------------------------------------
    def node_labels(self, node: str) -> dict[str, str]:
        return {"kubernetes.io/hostname": node, "topology.kubernetes.io/zone": f"zone-{self.nodes.index(node)}"}

    def _schedule(self, pod: dict) -> str | None:
        """The node with the fewest pods among those the pod may go to; None (and status Unschedulable) if none."""
        others = [p for p in self.store.all_of("Pod") if p["spec"].get("nodeName")
                  and p["metadata"]["uid"] != pod["metadata"]["uid"]]
        wanted = pod["spec"].get("nodeSelector") or {}
        terms = ((pod["spec"].get("affinity") or {}).get("podAntiAffinity") or {}) \
            .get("requiredDuringSchedulingIgnoredDuringExecution") or []
        fits = []
        for node in self.nodes:
            labels = self.node_labels(node)
            if node in self.cordoned or node in self.lost_nodes:
                continue
            if any(labels.get(k) != v for k, v in wanted.items()):
                continue
            if any(_conflicts(term, pod, other, labels, self.node_labels(other["spec"]["nodeName"]))
                   for term in terms for other in others):
                continue
            fits.append(node)
        if not fits:
            message = f"0/{len(self.nodes)} nodes are available: node selector, anti-affinity, cordon or lost node"
            self.write_pod_status(pod["metadata"]["namespace"], pod["metadata"]["name"], pod["metadata"]["uid"], {
                "phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False",
                                                    "reason": "Unschedulable", "message": message}]})
            return None
        return min(fits, key=lambda n: (sum(1 for p in others if p["spec"]["nodeName"] == n), n))

    def _bind(self, pod: dict, node: str) -> dict | None:
        with self.store.lock:
            current = self.store.find("Pod", pod["metadata"]["namespace"], pod["metadata"]["name"])
            if current is None or current["metadata"]["uid"] != pod["metadata"]["uid"]:
                return None
            current["spec"]["nodeName"] = node
            return self.store.put_kind("Pod", current)

    # --- status ----------------------------------------------------------------------------------------
    def write_pod_status(self, namespace: str, name: str, uid: str, status: dict) -> bool:
        with self.store.lock:
            pod = self.store.find("Pod", namespace, name)
            if pod is None or pod["metadata"]["uid"] != uid:
                return False
            if pod.get("status") != status:
                pod["status"] = copy.deepcopy(status)
                self.store.put_kind("Pod", pod)
            return True

    # --- services, endpoints, DNS -------------------------------------------------------------------------
    def _sync_services(self, pods: list[dict]) -> None:
        records: dict[str, list[str]] = {}
        backends: dict[tuple[str, int], list[Endpoint]] = {}
        for service in self.store.all_of("Service"):
            meta, spec = service["metadata"], service.get("spec") or {}
            namespace, name = meta["namespace"], meta["name"]
            base = f"{name}.{namespace}.{DOMAIN}"
            selected = [(p, _pod_ready(p)) for p in pods if p["metadata"]["namespace"] == namespace
                        and selects(service, p) and (p.get("status") or {}).get("podIP")]
            if spec.get("selector"):
                self._write_endpoints(service, selected)
            published = [p for p, ready in selected if ready or spec.get("publishNotReadyAddresses")]
            if spec.get("clusterIP") in (None, "", "None"):
                if published:  # a headless Service without published pods does not resolve (NXDOMAIN)
                    records[base] = sorted(p["status"]["podIP"] for p in published)
                for pod in published:
                    if pod["spec"].get("subdomain") == name and pod["spec"].get("hostname"):
                        records[f"{pod['spec']['hostname']}.{base}"] = [pod["status"]["podIP"]]
                continue
            records[base] = [spec["clusterIP"]]
            for port in spec.get("ports") or []:
                backends[(spec["clusterIP"], int(port["port"]))] = [
                    Endpoint(p["status"]["podIP"], target_port(port, p)) for p, ready in selected
                    if ready and target_port(port, p)]
        self.dns.records = records
        self._backends = backends
        services = {(s["metadata"]["namespace"], s["metadata"]["name"]) for s in self.store.all_of("Service")}
        for endpoints in self.store.all_of("Endpoints"):  # the endpoints controller removes them with the Service
            key = (endpoints["metadata"]["namespace"], endpoints["metadata"]["name"])
            if key not in services:
                self.store.delete_kind("Endpoints", *key)
        for key in self.forwarder.listening() - set(backends):
            self.forwarder.remove(key)
        for key in set(backends) - self.forwarder.listening():
            self.forwarder.add(key)

    def _write_endpoints(self, service: dict, selected: list[tuple[dict, bool]]) -> None:
        wanted = endpoints_object(service, selected)
        meta = service["metadata"]
        live = self.store.find("Endpoints", meta["namespace"], meta["name"])
        if live is None or live.get("subsets") != wanted["subsets"]:
            if live is not None:
                wanted["metadata"] = {**live["metadata"], "labels": wanted["metadata"]["labels"]}
            self.store.put_kind("Endpoints", wanted)

    # --- test helpers ----------------------------------------------------------------------------------
    def worker(self, namespace: str, name: str) -> PodWorker:
        """The worker running the current pod of that name."""
        pod = self.store.find("Pod", namespace, name)
        if pod is None or pod["metadata"]["uid"] not in self.workers:
            raise LookupError(f"pod {namespace}/{name} is not running on any node")
        return self.workers[pod["metadata"]["uid"]]

    def exec(self, namespace: str, name: str, argv: list[str], container: str | None = None,
             timeout: float = 30, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        """`kubectl exec`: run `argv` in a pod's container (`env` added to the container's environment)."""
        return self.worker(namespace, name).exec(argv, container, timeout, env)

    def logs(self, namespace: str, name: str, container: str | None = None) -> str:
        """`kubectl logs` over every start of the container (earlier starts first)."""
        worker = self.worker(namespace, name)
        folder = worker.pod_dir / "containers" / worker.container(container).name
        starts = sorted(folder.iterdir(), key=lambda p: int(p.name)) if folder.is_dir() else []
        return "".join(f"--- start {p.name}\n" + (p / "log").read_text(errors="replace")
                       for p in starts if (p / "log").is_file())

    def kill(self, namespace: str, name: str, sig: int = signal.SIGKILL, container: str | None = None) -> None:
        """Signal a container's main process (PID 1 of its namespace) from the node, e.g. `kill -9`."""
        process = self.worker(namespace, name).container(container).process
        if process is not None:
            process.signal(sig)

    def oom_kill(self, namespace: str, name: str, container: str | None = None) -> None:
        """The kernel's OOM killer: SIGKILL, and the container's last state says OOMKilled."""
        process = self.worker(namespace, name).container(container).process
        if process is not None:
            process.killed_by = "OOMKilled"
            process.signal(signal.SIGKILL)

    def delete_pod(self, namespace: str, name: str, grace_seconds: int | None = None) -> None:
        """`kubectl delete pod`: the pod is Terminating while its worker runs preStop, SIGTERM, then SIGKILL
        after the grace period (default: its `terminationGracePeriodSeconds`); then it is gone."""
        self.store.delete((*KIND_TO_RESOURCE["Pod"], namespace, name), grace_seconds=grace_seconds)

    def pods_on(self, node: str) -> list[dict]:
        return [p for p in self.store.all_of("Pod") if p["spec"].get("nodeName") == node]

    def drain(self, node: str) -> list[str]:
        """`kubectl drain`: cordon the node and evict every pod on it; returns the evicted pods."""
        self.cordoned.add(node)
        evicted = []
        for pod in self.pods_on(node):
            self.delete_pod(pod["metadata"]["namespace"], pod["metadata"]["name"])
            evicted.append(pod["metadata"]["name"])
        return evicted

    def lose_node(self, node: str) -> list[str]:
        """The node vanishes: its processes die at once, its pods drop off the network, and the pods stay
        with Ready Unknown (a StatefulSet does not replace them; a graceful delete leaves them Terminating,
        as no kubelet confirms it: `delete_pod(..., grace_seconds=0)` is the force delete)."""
        self.lost_nodes.add(node)
        lost = []
        for worker in list(self.workers.values()):
            if worker.node == node:
                worker.lost.set()
                for container in worker.containers:
                    if container.process is not None:
                        container.process.signal(signal.SIGKILL)
                if worker.sandbox is not None:
                    self.bridge.disconnect(worker.sandbox)
                worker.kill_now.set()
                self.write_pod_status(worker.namespace, worker.pod_name, worker.uid, worker.status())
                lost.append(worker.pod_name)
        return lost

    def wait_for(self, what: str, check, timeout: float = 60.0):
        """Poll `check()` until truthy; fail with `what` and the runner's errors after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            result = check()
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}; runner errors: {self.errors}")
            time.sleep(0.1)

    def wait_ready(self, namespace: str, name: str, timeout: float = 60.0) -> dict:
        def ready():
            pod = self.store.find("Pod", namespace, name)
            return pod if pod is not None and _pod_ready(pod) else None
        return self.wait_for(f"pod {namespace}/{name} to be ready", ready, timeout)

    def client_pod(self, namespace: str = "apps", timeout: float = 60.0) -> str:
        """A ready pod `client` with redis-cli in `namespace` (created with it), as an application would run."""
        self.store.put_kind("Namespace", {"metadata": {"name": namespace}})
        self.store.put_kind("Pod", {"metadata": {"name": "client", "namespace": namespace},
                                    "spec": {"containers": [{"name": "client", "image": "redis:7.2",
                                                             "command": ["sleep", "3600"]}]}})
        self.wait_ready(namespace, "client", timeout)
        return namespace


def _claims_of(pod: dict) -> set[str]:
    return {v["persistentVolumeClaim"]["claimName"] for v in pod["spec"].get("volumes") or []
            if "persistentVolumeClaim" in v}


def _conflicts(term: dict, pod: dict, other: dict, labels: dict, other_labels: dict) -> bool:
    """Whether `other` (already on a node) forbids `pod` on a node with `labels` under an anti-affinity term."""
    key = term.get("topologyKey", "")
    if labels.get(key) is None or labels.get(key) != other_labels.get(key):
        return False
    namespaces = term.get("namespaces") or [pod["metadata"]["namespace"]]
    if other["metadata"]["namespace"] not in namespaces:
        return False
    match = (term.get("labelSelector") or {}).get("matchLabels") or {}
    other_pod_labels = other["metadata"].get("labels") or {}
    return bool(match) and all(other_pod_labels.get(k) == v for k, v in match.items())
