"""One pod's life on its node, as the kubelet lives it: sandbox, volumes, containers, probes, restarts, status.

A `PodWorker` thread per pod: it waits until an earlier pod of the same name has fully stopped
(a StatefulSet pod is never run twice at once), makes the pod's network namespace, prepares its
volumes and environment, starts each container, restarts exited ones (`restartPolicy`, with the
kubelet's doubling back-off), runs probes, and writes the pod's status. On deletion it runs
`lifecycle.preStop`, then sends SIGTERM, then SIGKILL once `terminationGracePeriodSeconds` have passed.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from . import images
from .apiserver import MOUNT_PATH as SERVICE_ACCOUNT_PATH
from .network import NetworkError, Sandbox
from .probes import LIVENESS, READINESS, STARTUP, Probe, run_probe
from .process import ContainerProcess, Identity, Mount
from .volumes import NotReady, VolumeSet, environment, expand

if TYPE_CHECKING:
    from .runner import PodRunner

MAX_BACKOFF = 300.0
TICK = 0.1
VOLUME_REFRESH = 1.0  # seconds between refreshes of ConfigMap and Secret volumes (the kubelet: about a minute)


def now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Container:
    spec: dict
    process: ContainerProcess | None = None
    restarts: int = 0
    started_at: str = ""
    waiting: tuple[str, str] | None = ("ContainerCreating", "")
    last_state: dict = field(default_factory=dict)
    terminated: dict | None = None  # final state once the pod will not restart it
    backoff_until: float = 0.0
    probes: dict[str, Probe] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    identity: Identity = field(default_factory=Identity)

    @property
    def name(self) -> str:
        return self.spec["name"]

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def started(self) -> bool:
        startup = self.probes.get(STARTUP)
        return self.running and (startup is None or startup.passed)

    @property
    def ready(self) -> bool:
        if not self.started:
            return False
        readiness = self.probes.get(READINESS)
        return readiness is None or readiness.passed

    def status(self) -> dict:
        image = self.spec.get("image", "")
        if self.running:
            state = {"running": {"startedAt": self.started_at}}
        elif self.terminated is not None:
            state = {"terminated": self.terminated}
        else:
            reason, message = self.waiting or ("ContainerCreating", "")
            state = {"waiting": {"reason": reason, **({"message": message} if message else {})}}
        return {"name": self.name, "image": image, "imageID": f"emulator://{image}", "ready": self.ready,
                "started": self.started, "restartCount": self.restarts, "state": state, "lastState": self.last_state}


class PodWorker(threading.Thread):
    def __init__(self, runner: PodRunner, pod: dict, after: PodWorker | None):
        meta = pod["metadata"]
        super().__init__(name=f"pod-{meta['namespace']}-{meta['name']}", daemon=True)
        self.runner, self.pod, self.after = runner, pod, after
        self.uid, self.namespace, self.pod_name = meta["uid"], meta["namespace"], meta["name"]
        self.node: str = pod["spec"].get("nodeName", "")
        self.containers = [Container(spec) for spec in pod["spec"].get("containers", [])]
        self.sandbox: Sandbox | None = None
        self.pod_dir = runner.workdir / "pods" / self.uid
        self.deleted = threading.Event()
        self.lost = threading.Event()
        self.kill_now = threading.Event()  # teardown: no preStop, no grace
        self.finished = threading.Event()
        self.start_time = ""
        self._transitions: dict[str, tuple[str, str]] = {}
        self._last_status: dict | None = None
        self.error: str = ""

    # --- what the runner and tests ask -----------------------------------------------------------------
    def container(self, name: str | None = None) -> Container:
        return next(c for c in self.containers if name is None or c.name == name)

    def ready(self) -> bool:
        return bool(self.containers) and all(c.ready for c in self.containers) and not self.lost.is_set()

    def exec(self, argv: list[str], container: str | None = None, timeout: float = 30,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        target = self.container(container)
        if target.process is None:
            return subprocess.CompletedProcess(argv, 126, "", "container has not started")
        return target.process.exec(argv, timeout, env={**target.env, **(env or {})})

    # --- the pod's life --------------------------------------------------------------------------------
    def run(self) -> None:
        try:
            if self.after is not None:
                self.after.finished.wait()
            if not self.deleted.is_set():
                self._live()
        except Exception as exc:  # noqa: BLE001 - reported in the pod's status and the runner's errors
            self.error = f"{type(exc).__name__}: {exc}"
            self.runner.errors.append(f"{self.namespace}/{self.pod_name}: {self.error}")
        finally:
            self._terminate()
            self.finished.set()

    def _live(self) -> None:
        self.start_time = now_text()
        try:
            self.sandbox = self.runner.bridge.sandbox()
        except NetworkError as exc:
            self.error = str(exc)
            raise
        self.pod.setdefault("status", {})["podIP"] = self.sandbox.address
        self._write_etc()
        self._write_status()
        mounts_by_volume: dict[str, Path] | None = None
        refresh_at = 0.0
        while not self.deleted.is_set():
            if self.lost.is_set():
                time.sleep(TICK)
                continue
            pod = self.runner.store.find("Pod", self.namespace, self.pod_name)
            if pod is not None and pod["metadata"]["uid"] == self.uid:
                pod.setdefault("status", {})["podIP"] = self.sandbox.address
                self.pod = pod
            if mounts_by_volume is None or time.monotonic() >= refresh_at:
                refresh_at = time.monotonic() + VOLUME_REFRESH
                try:
                    mounts_by_volume = VolumeSet(self.runner.store, self.pod, self.pod_dir,
                                                 self.runner.workdir / "claims").prepare()
                except NotReady as exc:
                    for container in self.containers:
                        if not container.running:
                            container.waiting = (exc.reason, exc.message)
                    mounts_by_volume = None
            for container in self.containers:
                self._tend(container, mounts_by_volume)
            self._write_status()
            self.deleted.wait(TICK)

    def _tend(self, container: Container, volumes: dict[str, Path] | None) -> None:
        now = time.monotonic()
        if container.process is not None and not container.running:
            self._record_exit(container, now)
        if container.process is None and container.terminated is None:
            if volumes is not None and now >= container.backoff_until:
                self._start(container, volumes)
            return
        if container.running:
            self._probe(container, now)

    def _start(self, container: Container, volumes: dict[str, Path]) -> None:
        spec = container.spec
        try:
            image = images.resolve(spec.get("image", ""))
        except images.ImageNotFound as exc:
            container.waiting = ("ErrImagePull", str(exc))
            container.backoff_until = time.monotonic() + self.runner.restart_backoff
            return
        try:
            env = environment(self.runner.store, self.pod, spec)
        except NotReady as exc:
            container.waiting = (exc.reason, exc.message)
            return
        argv = [expand(arg, env) for arg in images.argv(image, spec)]
        mounts = [Mount(volumes[m["name"]] / m["subPath"] if m.get("subPath") else volumes[m["name"]],
                        m["mountPath"], bool(m.get("readOnly"))) for m in spec.get("volumeMounts") or []
                  if m["name"] in volumes]
        missing = [m["name"] for m in spec.get("volumeMounts") or [] if m["name"] not in volumes]
        if missing:
            container.waiting = ("CreateContainerConfigError", f"volumeMount {missing[0]} has no volume")
            return
        for name in ("hosts", "resolv.conf", "hostname"):
            mounts.append(Mount(self.pod_dir / "etc" / name, f"/etc/{name}", read_only=True))
        if self.runner.api is not None and self.pod["spec"].get("automountServiceAccountToken") is not False:
            # /var/run is a link to /run on this machine: mount under the pod's own /run, never through the link.
            mounts.append(Mount(self._service_account_dir(), os.path.realpath(SERVICE_ACCOUNT_PATH), read_only=True))
            env = {**self.runner.api.env(), **env}
        identity = _identity(self.pod, spec)
        run_dir = self.pod_dir / "containers" / container.name / str(container.restarts)
        if container.restarts:
            # Keep the log of the previous start (`kubectl logs --previous`), not its writable layer.
            shutil.rmtree(self.pod_dir / "containers" / container.name / str(container.restarts - 1) / "upper",
                          ignore_errors=True)
        shutil.rmtree(run_dir, ignore_errors=True)
        process = ContainerProcess(self.sandbox.netns, run_dir, argv, env, mounts,
                                   self.pod["spec"].get("hostname") or self.pod_name, identity,
                                   spec.get("workingDir") or "/")
        process.start()
        container.process, container.env, container.identity = process, env, identity
        container.started_at, container.waiting, container.terminated = now_text(), None, None
        started = time.monotonic()
        container.probes = {kind: Probe(kind, spec[kind], started) for kind in (STARTUP, READINESS, LIVENESS)
                            if kind in spec}

    def _service_account_dir(self) -> Path:
        """The token, CA and namespace of the pod's service account, as the kubelet mounts them."""
        folder = self.pod_dir / "serviceaccount"
        folder.mkdir(parents=True, exist_ok=True)
        account = self.pod["spec"].get("serviceAccountName") or "default"
        for name, content in self.runner.api.service_account_files(self.namespace, account).items():
            (folder / name).write_bytes(content)
            (folder / name).chmod(0o644)
        return folder

    def _record_exit(self, container: Container, now: float) -> None:
        process = container.process
        assert process is not None
        code = process.poll() or 0
        reason = process.killed_by or ("Completed" if code == 0 else "Error")
        container.last_state = {"terminated": {"exitCode": code, "reason": reason, "startedAt": container.started_at,
                                               "finishedAt": now_text()}}
        container.process, container.probes = None, {}
        policy = self.pod["spec"].get("restartPolicy", "Always")
        if policy == "Never" or (policy == "OnFailure" and code == 0):
            container.terminated = container.last_state["terminated"]
            return
        # The first restart is immediate; then 10 s, 20 s, ... up to 5 minutes (the kubelet's back-off).
        delay = 0.0 if not container.restarts else \
            min(MAX_BACKOFF, self.runner.restart_backoff * 2 ** min(container.restarts - 1, 10))
        container.restarts += 1
        container.backoff_until = now + delay
        container.waiting = ("CrashLoopBackOff", f"back-off {delay:.0f}s restarting failed container={container.name} "
                             f"pod={self.pod_name}")

    def _probe(self, container: Container, now: float) -> None:
        assert container.process is not None
        kinds = [STARTUP] if STARTUP in container.probes and not container.probes[STARTUP].passed \
            else [READINESS, LIVENESS]
        for kind in kinds:
            probe = container.probes.get(kind)
            if probe is None or not probe.due(now):
                continue
            probe.record(run_probe(probe.spec, container.process, self.pod), time.monotonic())
            if kind in (LIVENESS, STARTUP) and probe.failed:
                grace = float(self.pod["spec"].get("terminationGracePeriodSeconds", 30))
                container.process.stop(grace)
                return

    # --- termination -----------------------------------------------------------------------------------
    def _terminate(self) -> None:
        grace = 0.0 if self.kill_now.is_set() else float(self.pod["spec"].get("terminationGracePeriodSeconds", 30))
        deadline = time.monotonic() + grace
        running = [c for c in self.containers if c.running]
        if not self.kill_now.is_set():
            for container in running:
                hook = ((container.spec.get("lifecycle") or {}).get("preStop") or {}).get("exec")
                if hook:
                    container.process.exec(list(hook["command"]), max(0.0, deadline - time.monotonic()),
                                           env=container.env)
        for container in running:
            container.process.signal(signal.SIGTERM)
        for container in running:
            container.process.stop(max(0.0, deadline - time.monotonic()))
        if self.sandbox is not None:
            self.runner.bridge.release(self.sandbox)
        shutil.rmtree(self.pod_dir, ignore_errors=True)

    # --- status ----------------------------------------------------------------------------------------
    def _write_etc(self) -> None:
        etc = self.pod_dir / "etc"
        etc.mkdir(parents=True, exist_ok=True)
        spec, namespace = self.pod["spec"], self.namespace
        hostname = spec.get("hostname") or self.pod_name
        names = f"{hostname}.{spec['subdomain']}.{namespace}.svc.cluster.local\t{hostname}" \
            if spec.get("subdomain") else hostname
        (etc / "hosts").write_text(f"# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost\n"
                                   f"{self.sandbox.address}\t{names}\n")
        (etc / "resolv.conf").write_text(f"nameserver {self.runner.bridge.gateway}\n"
                                         f"search {namespace}.svc.cluster.local svc.cluster.local cluster.local\n"
                                         "options ndots:5\n")
        (etc / "hostname").write_text(hostname + "\n")

    def _condition(self, kind: str, ok: bool, reason: str = "") -> dict:
        status = "True" if ok else "False"
        if self.lost.is_set() and kind in ("Ready", "ContainersReady"):
            status, reason = "Unknown", "NodeLost"
        previous = self._transitions.get(kind)
        if previous is None or previous[0] != status:
            self._transitions[kind] = (status, now_text())
        condition = {"type": kind, "status": status, "lastTransitionTime": self._transitions[kind][1]}
        if reason and status != "True":
            condition["reason"] = reason
        return condition

    def status(self) -> dict:
        started = all(c.process is not None or c.restarts or c.terminated for c in self.containers)
        ready = self.ready()
        phase = "Running" if started else "Pending"
        if self.containers and all(c.terminated is not None for c in self.containers):
            phase = "Succeeded" if all(c.terminated["exitCode"] == 0 for c in self.containers) else "Failed"
        status = {
            "phase": phase,
            "hostIP": self.runner.bridge.gateway,
            "podIP": self.sandbox.address if self.sandbox else "",
            "podIPs": [{"ip": self.sandbox.address}] if self.sandbox else [],
            "startTime": self.start_time,
            "conditions": [self._condition("PodScheduled", True), self._condition("Initialized", True),
                           self._condition("ContainersReady", ready, "ContainersNotReady"),
                           self._condition("Ready", ready, "ContainersNotReady")],
            "containerStatuses": [c.status() for c in self.containers],
        }
        if self.lost.is_set():
            status["reason"] = "NodeLost"
        return status

    def _write_status(self) -> None:
        status = self.status()
        if status != self._last_status and self.runner.write_pod_status(self.namespace, self.pod_name, self.uid,
                                                                       status):
            self._last_status = status


def _identity(pod: dict, container: dict) -> Identity:
    pod_security = pod["spec"].get("securityContext") or {}
    security = {**pod_security, **(container.get("securityContext") or {})}
    uid = int(security.get("runAsUser", 0))
    gid = int(security.get("runAsGroup", 0))
    groups = [int(g) for g in pod_security.get("supplementalGroups") or []]
    if pod_security.get("fsGroup") is not None:
        groups.append(int(pod_security["fsGroup"]))
    return Identity(uid, gid, groups)
