"""Services as kube-proxy makes them work: ClusterIP forwarding to ready endpoints, and Endpoints objects.

No iptables here, so this is kube-proxy's userspace mode: for every ClusterIP Service port the root
namespace listens on `<clusterIP>:<port>` (an address on the pod bridge) and pipes each connection to
one ready endpoint chosen at connect time. An established connection stays with its endpoint (as
conntrack keeps a flow); a Service without ready endpoints refuses new connections by closing them.
"""
from __future__ import annotations

import asyncio
import contextlib
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Endpoint:
    ip: str
    port: int


def target_port(service_port: dict, pod: dict) -> int | None:
    """The container port a Service port sends to on `pod` (a number, or a named container port)."""
    wanted = service_port.get("targetPort", service_port["port"])
    if isinstance(wanted, int) or str(wanted).isdigit():
        return int(wanted)
    for container in pod["spec"].get("containers", []):
        for port in container.get("ports") or []:
            if port.get("name") == wanted:
                return int(port["containerPort"])
    return None


def selects(service: dict, pod: dict) -> bool:
    selector = service.get("spec", {}).get("selector") or {}
    labels = pod["metadata"].get("labels") or {}
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def endpoints_object(service: dict, pods: list[tuple[dict, bool]]) -> dict:
    """The Endpoints object of a Service given its selected pods and whether each is ready."""
    meta = service["metadata"]
    ready, not_ready = [], []
    for pod, is_ready in pods:
        ip = (pod.get("status") or {}).get("podIP")
        if not ip:
            continue
        address = {"ip": ip, "hostname": pod["spec"].get("hostname", ""), "nodeName": pod["spec"].get("nodeName", ""),
                   "targetRef": {"kind": "Pod", "name": pod["metadata"]["name"], "namespace": meta["namespace"],
                                 "uid": pod["metadata"]["uid"]}}
        (ready if is_ready else not_ready).append(address)
    subsets = []
    if ready or not_ready:
        ports = [{"name": p.get("name", ""), "port": target_port(p, pods[0][0]) or p["port"],
                  "protocol": p.get("protocol", "TCP")} for p in service["spec"].get("ports") or []]
        subset: dict = {"ports": ports}
        if ready:
            subset["addresses"] = sorted(ready, key=lambda a: a["ip"])
        if not_ready:
            subset["notReadyAddresses"] = sorted(not_ready, key=lambda a: a["ip"])
        subsets.append(subset)
    return {"metadata": {"name": meta["name"], "namespace": meta["namespace"],
                         "labels": dict(meta.get("labels") or {})}, "subsets": subsets}


class Forwarder:
    """Listens on ClusterIP:port pairs; `backends((ip, port))` says where a new connection may go."""

    def __init__(self, backends: Callable[[tuple[str, int]], list[Endpoint]]) -> None:
        self.backends = backends
        self.loop = asyncio.new_event_loop()
        self._servers: dict[tuple[str, int], asyncio.AbstractServer] = {}
        self._thread = threading.Thread(target=self.loop.run_forever, name="kube-proxy", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        for key in list(self._servers):
            self.remove(key)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)

    def listening(self) -> set[tuple[str, int]]:
        return set(self._servers)

    def add(self, key: tuple[str, int]) -> None:
        if key in self._servers:
            return
        future = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(lambda r, w: self._pipe(key, r, w), key[0], key[1]), self.loop)
        self._servers[key] = future.result(timeout=5)

    def remove(self, key: tuple[str, int]) -> None:
        server = self._servers.pop(key, None)
        if server is not None:
            self.loop.call_soon_threadsafe(server.close)

    async def _pipe(self, key: tuple[str, int], reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        choices = self.backends(key)
        if not choices:
            writer.close()
            return
        endpoint = random.choice(choices)
        try:
            up_reader, up_writer = await asyncio.wait_for(asyncio.open_connection(endpoint.ip, endpoint.port), 3)
        except (OSError, TimeoutError):
            writer.close()
            return

        async def copy(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.IncompleteReadError):
                pass
            finally:
                with contextlib.suppress(OSError):
                    dst.close()

        await asyncio.gather(copy(reader, up_writer), copy(up_reader, writer))
