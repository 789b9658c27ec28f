"""Real servers the tests start: a throwaway redis-server on a free loopback port (one with a TLS port too)."""
from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


@contextmanager
def redis_server(*args: str):
    """Yield the URL of a fresh redis-server; stop it and remove its files afterwards."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed: run scripts/install-system-deps.sh --test")
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="cp-test-redis-"))
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(workdir),
                             "--save", "", "--appendonly", "no", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


@dataclass(frozen=True)
class TlsRedis:
    """A redis-server with a TLS port; `client` reaches its plain port (the test's own writes)."""
    client: redis.Redis
    tls_port: int
    folder: Path

    def serve(self, cert_pem: str, key_pem: str) -> None:
        """Present another server certificate from now on (loaded live: open links keep the old one)."""
        _write_private(self.folder / "server.crt", cert_pem)
        _write_private(self.folder / "server.key", key_pem)
        self.client.config_set("tls-cert-file", str(self.folder / "server.crt"))
        self.client.config_set("tls-key-file", str(self.folder / "server.key"))

    def end_replica_links(self, replica: redis.Redis, timeout: float = 10.0) -> None:
        """Close every replica's link (as a restart of the source would) and wait until `replica` sees it down."""
        self.client.client_kill_filter(_type="replica")
        deadline = time.monotonic() + timeout
        while replica.info("replication")["master_link_status"] == "up":
            if time.monotonic() > deadline:
                raise TimeoutError("the replica's link did not drop")
            time.sleep(0.05)


@contextmanager
def tls_redis_server(folder: Path, ca_pem: str, cert_pem: str, key_pem: str, *, clients_ca_pem: str = "",
                     password: str = "s3cret") -> Iterator[TlsRedis]:
    """A redis-server presenting `cert_pem` (signed by `ca_pem`) on a TLS port besides its plain one; mutual TLS
    when `clients_ca_pem` is given (clients must present a certificate it signed)."""
    _write_private(folder / "server.crt", cert_pem)
    _write_private(folder / "server.key", key_pem)
    _write_private(folder / "clients.crt", clients_ca_pem or ca_pem)
    tls_port = free_port()
    with redis_server("--requirepass", password, "--repl-diskless-sync-delay", "0", "--tls-port", str(tls_port),
                      "--tls-cert-file", str(folder / "server.crt"), "--tls-key-file", str(folder / "server.key"),
                      "--tls-ca-cert-file", str(folder / "clients.crt"),
                      "--tls-auth-clients", "yes" if clients_ca_pem else "no") as url:
        client = redis.Redis(port=int(url.rsplit(":", 1)[1].split("/")[0]), password=password,
                             decode_responses=True)
        try:
            yield TlsRedis(client, tls_port, folder)
        finally:
            client.close()


def _write_private(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o600)


@contextmanager
def s3_server():
    """Yield the endpoint URL of a real S3-compatible server (moto_server, from `moto[server]`) on a free port."""
    import sys

    binary = Path(sys.executable).parent / "moto_server"
    if not binary.exists():
        raise RuntimeError("moto_server is not installed: pip install 'moto[server]' (the test extra)")
    port = free_port()
    proc = subprocess.Popen([str(binary), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, timeout=30)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextmanager
def postgres_server():
    """Yield a LocalPostgres (Debian's binaries, as the `postgres` user when root) in a temp dir; stop and
    remove it afterwards. Raises PostgresUnavailable when the binaries are missing."""
    from controlplane.localpostgres import LocalPostgres, server_bindir

    server_bindir()
    root = Path(tempfile.mkdtemp(prefix="cp-test-postgres-"))
    server = LocalPostgres(root, port=free_port())
    try:
        server.start()
        yield server
    finally:
        server.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)
