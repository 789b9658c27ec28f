"""The cluster DNS (what CoreDNS does for pods): A records from the runner's current view of Services and pods.

Answers UDP queries on the bridge's gateway address, port 53. Pods use it through their
/etc/resolv.conf (search `<ns>.svc.cluster.local svc.cluster.local cluster.local`, ndots 5), and the
control plane through the target setting `dataplane_nameserver`. TTL 0: a recreated pod's new IP
is seen at the next lookup.
"""
from __future__ import annotations

import socket
import threading

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset

DNS_PORT = 53


class ClusterDns:
    def __init__(self, address: str, port: int = DNS_PORT) -> None:
        self.address, self.port = address, port
        self.records: dict[str, list[str]] = {}  # lower-case FQDN without the final dot -> IPv4 addresses
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def start(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((self.address, self.port))
        self._sock.settimeout(0.2)
        self._thread = threading.Thread(target=self._serve, name="cluster-dns", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
        if self._sock:
            self._sock.close()

    def answer(self, wire: bytes) -> bytes | None:
        try:
            query = dns.message.from_wire(wire)
        except Exception:  # noqa: BLE001 - garbage on the socket is dropped, as a DNS server does
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        records = self.records
        for question in query.question:
            name = question.name.to_text().rstrip(".").lower()
            if name not in records:
                response.set_rcode(dns.rcode.NXDOMAIN)
                continue
            if question.rdtype == dns.rdatatype.A and records[name]:
                response.answer.append(dns.rrset.from_text_list(question.name, 0, "IN", "A", records[name]))
        return response.to_wire()

    def _serve(self) -> None:
        assert self._sock is not None
        while not self._stop.is_set():
            try:
                wire, peer = self._sock.recvfrom(4096)
            except (TimeoutError, OSError):
                continue
            reply = self.answer(wire)
            if reply is not None:
                try:
                    self._sock.sendto(reply, peer)
                except OSError:
                    continue
