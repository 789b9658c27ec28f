"""The API server as pods see it: `https://$KUBERNETES_SERVICE_HOST:443` with a service account token and CA.

A real cluster gives every pod whose `automountServiceAccountToken` is not false the env variables
`KUBERNETES_SERVICE_HOST`/`_PORT` and the folder `/var/run/secrets/kubernetes.io/serviceaccount`
(`token`, `ca.crt`, `namespace`), so in-cluster clients (`kubectl`, client libraries) reach the API
over TLS. Here a TLS terminator listens on the bridge's root address, port 443, with a certificate
of its own throwaway CA, and pipes each connection in plain HTTP to the emulator on 127.0.0.1. The
emulator does no authentication, so the token only has to be there.
"""
from __future__ import annotations

import contextlib
import datetime
import ipaddress
import socket
import ssl
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

PORT = 443
MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"


def _certificate(subject: str, key, issuer_key, issuer: x509.Name | None, *, ca: bool,
                 address: str = "") -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer or name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if address:
        builder = builder.add_extension(x509.SubjectAlternativeName([
            x509.IPAddress(ipaddress.ip_address(address)), x509.DNSName("kubernetes.default.svc"),
            x509.DNSName("kubernetes.default.svc.cluster.local")]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


class ApiServerProxy:
    """TLS on `address:443` -> plain HTTP on `upstream` (the emulator), one thread pair per connection."""

    def __init__(self, address: str, upstream: tuple[str, int], workdir: Path):
        self.address, self.upstream, self.workdir = address, upstream, workdir
        self._listener: socket.socket | None = None
        self._stop = threading.Event()
        ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
        ca = _certificate("emulator-ca", ca_key, ca_key, None, ca=True)
        server = _certificate("kube-apiserver", server_key, ca_key, ca.subject, ca=False, address=address)
        workdir.mkdir(parents=True, exist_ok=True)
        self.ca_pem = ca.public_bytes(serialization.Encoding.PEM)
        (workdir / "server.crt").write_bytes(server.public_bytes(serialization.Encoding.PEM) + self.ca_pem)
        key_file = workdir / "server.key"
        key_file.touch(mode=0o600)
        key_file.write_bytes(server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                      serialization.NoEncryption()))
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(workdir / "server.crt", key_file)
        self._context.set_alpn_protocols(["http/1.1"])

    def start(self) -> None:
        self._listener = socket.create_server((self.address, PORT))
        self._listener.settimeout(0.5)
        threading.Thread(target=self._accept, name="apiserver-proxy", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        if self._listener is not None:
            self._listener.close()

    def service_account_files(self, namespace: str, service_account: str) -> dict[str, bytes]:
        """What the kubelet puts in MOUNT_PATH (the emulator accepts any token)."""
        return {"token": f"emulator-token:{namespace}:{service_account}".encode(), "ca.crt": self.ca_pem,
                "namespace": namespace.encode()}

    def env(self) -> dict[str, str]:
        return {"KUBERNETES_SERVICE_HOST": self.address, "KUBERNETES_SERVICE_PORT": str(PORT),
                "KUBERNETES_SERVICE_PORT_HTTPS": str(PORT)}

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            client.settimeout(10)
            secure = self._context.wrap_socket(client, server_side=True)
            upstream = socket.create_connection(self.upstream, timeout=10)
        except (OSError, ssl.SSLError):
            client.close()
            return
        secure.settimeout(None)
        upstream.settimeout(None)
        threading.Thread(target=_pipe, args=(upstream, secure), daemon=True).start()
        _pipe(secure, upstream)


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()
