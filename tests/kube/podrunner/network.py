"""Pod networking: one Linux bridge, and per pod a network namespace with one veth on it.

The bridge gets a private /16 that no route of this machine uses; the root namespace (where the test
and the control plane run) holds the bridge's first address, so it reaches every pod directly. Pods get
no default route and the root namespace forwards nothing: no packet leaves the machine.
Service ClusterIPs are extra /32 addresses on the bridge, served by the forwarder in services.py.
"""
from __future__ import annotations

import ipaddress
import random
import secrets
import subprocess
import threading
import time
from dataclasses import dataclass


class NetworkError(Exception):
    pass


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10)
    if check and result.returncode != 0:
        raise NetworkError(f"ip {' '.join(args)}: {result.stderr.strip()}")
    return result


def _used_networks() -> list[ipaddress.IPv4Network]:
    out = ip("-4", "-o", "addr", "show").stdout + ip("-4", "route", "show", "table", "all").stdout
    networks = []
    for word in out.split():
        try:
            networks.append(ipaddress.ip_network(word, strict=False))
        except ValueError:
            continue
    return [n for n in networks if isinstance(n, ipaddress.IPv4Network)]


def free_subnet() -> ipaddress.IPv4Network:
    """A 10.x.0.0/16 that overlaps nothing this machine has an address or route for."""
    used = _used_networks()
    candidates = list(range(64, 192))
    random.shuffle(candidates)
    for second in candidates:
        subnet = ipaddress.ip_network(f"10.{second}.0.0/16")
        if not any(subnet.overlaps(n) for n in used if n.prefixlen > 0):
            return subnet
    raise NetworkError("no free 10.x.0.0/16 for the pod bridge")


def _wait_carrier(sandbox: Sandbox, timeout: float = 5.0) -> None:
    """Until both ends of the veth are up: a container must not start before its network works (as with CNI)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        inside = ip("-n", sandbox.netns, "-o", "link", "show", "eth0").stdout
        outside = ip("-o", "link", "show", sandbox.host_veth).stdout
        if "state UP" in inside and "state UP" in outside:
            return
        time.sleep(0.02)
    raise NetworkError(f"the veth of {sandbox.netns} did not come up")


@dataclass
class Sandbox:
    """A pod's network namespace: `netns` holds `eth0` with `address`."""
    netns: str
    host_veth: str
    address: str

    def destroy(self) -> None:
        ip("netns", "del", self.netns, check=False)  # takes eth0 and so its peer with it
        ip("link", "del", self.host_veth, check=False)


class Bridge:
    """The pod network; `destroy()` removes the bridge and every namespace and veth made through it."""

    def __init__(self) -> None:
        self.tag = secrets.token_hex(3)
        self.name = f"cpbr{self.tag}"
        self.subnet = free_subnet()
        hosts = self.subnet.network_address
        self.gateway = str(hosts + 1)
        self._next_pod = int(hosts) + 256  # pods from x.x.1.0 on
        self._next_service = int(hosts) + 255 * 256 + 1  # ClusterIPs in x.x.255.0/24
        self._sandboxes: dict[str, Sandbox] = {}
        self._count = 0
        self._lock = threading.Lock()  # pods start from their own threads

    def create(self) -> None:
        ip("link", "add", self.name, "type", "bridge")
        ip("addr", "add", f"{self.gateway}/{self.subnet.prefixlen}", "dev", self.name)
        ip("link", "set", self.name, "up")

    def allocate_service_ip(self) -> str:
        with self._lock:
            address = str(ipaddress.IPv4Address(self._next_service))
            self._next_service += 1
        ip("addr", "add", f"{address}/32", "dev", self.name)
        return address

    def sandbox(self) -> Sandbox:
        with self._lock:
            self._count += 1
            address = str(ipaddress.IPv4Address(self._next_pod))
            self._next_pod += 1
            if self._next_pod % 256 in (0, 255):
                self._next_pod += 2
            sandbox = Sandbox(f"cp{self.tag}-{self._count}", f"cpv{self.tag}{self._count}", address)
            self._sandboxes[sandbox.netns] = sandbox
        ip("netns", "add", sandbox.netns)
        try:
            ip("link", "add", sandbox.host_veth, "type", "veth", "peer", "name", "eth0", "netns", sandbox.netns)
            ip("link", "set", sandbox.host_veth, "master", self.name, "up")
            ip("-n", sandbox.netns, "addr", "add", f"{address}/{self.subnet.prefixlen}", "dev", "eth0")
            ip("-n", sandbox.netns, "link", "set", "eth0", "up")
            ip("-n", sandbox.netns, "link", "set", "lo", "up")
            _wait_carrier(sandbox)
        except NetworkError:
            self.release(sandbox)
            raise
        return sandbox

    def release(self, sandbox: Sandbox) -> None:
        sandbox.destroy()
        with self._lock:
            self._sandboxes.pop(sandbox.netns, None)

    def disconnect(self, sandbox: Sandbox) -> None:
        """Cut a pod off the network (its node was lost)."""
        ip("link", "set", sandbox.host_veth, "down", check=False)

    def destroy(self) -> None:
        for sandbox in list(self._sandboxes.values()):
            self.release(sandbox)
        ip("link", "del", self.name, check=False)
