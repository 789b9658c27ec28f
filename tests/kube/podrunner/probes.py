"""Container probes as the kubelet runs them: startup first, then readiness and liveness, each on its own schedule.

A probe is due `initialDelaySeconds` after the container started, then every `periodSeconds`; it
fails when it does not succeed within `timeoutSeconds`. `failureThreshold` consecutive failures flip
it to failed (a failed liveness or startup probe restarts the container), `successThreshold`
consecutive successes to succeeded.
"""
from __future__ import annotations

import socket
import urllib.request
from dataclasses import dataclass

from .process import ContainerProcess
from .services import target_port

STARTUP, READINESS, LIVENESS = "startupProbe", "readinessProbe", "livenessProbe"


@dataclass
class Probe:
    kind: str
    spec: dict
    started_at: float
    successes: int = 0
    failures: int = 0
    passed: bool = False  # readiness starts false; liveness and startup are only acted on when they fail
    failed: bool = False
    last_run: float | None = None

    def setting(self, name: str, default: int) -> float:
        return float(self.spec.get(name, default))

    def due(self, now: float) -> bool:
        if now < self.started_at + self.setting("initialDelaySeconds", 0):
            return False
        return self.last_run is None or now >= self.last_run + self.setting("periodSeconds", 10)

    def record(self, ok: bool, now: float) -> None:
        self.last_run = now
        if ok:
            self.successes, self.failures = self.successes + 1, 0
            if self.successes >= self.setting("successThreshold", 1):
                self.passed, self.failed = True, False
        else:
            self.successes, self.failures = 0, self.failures + 1
            if self.failures >= self.setting("failureThreshold", 3):
                self.passed, self.failed = False, True


def run_probe(spec: dict, container: ContainerProcess, pod: dict) -> bool:
    timeout = float(spec.get("timeoutSeconds", 1))
    pod_ip = (pod.get("status") or {}).get("podIP", "")
    if "exec" in spec:
        return container.exec(list(spec["exec"]["command"]), timeout).returncode == 0
    if "tcpSocket" in spec:
        port = target_port({"port": 0, "targetPort": spec["tcpSocket"]["port"]}, pod)
        try:
            with socket.create_connection((spec["tcpSocket"].get("host") or pod_ip, port), timeout=timeout):
                return True
        except OSError:
            return False
    if "httpGet" in spec:
        get = spec["httpGet"]
        port = target_port({"port": 0, "targetPort": get["port"]}, pod)
        url = f"{get.get('scheme', 'HTTP').lower()}://{get.get('host') or pod_ip}:{port}{get.get('path', '/')}"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as answer:  # noqa: S310 - a pod's own address
                return 200 <= answer.status < 400
        except OSError:
            return False
    return True
