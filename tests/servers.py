"""Real servers the tests start: a throwaway redis-server on a free loopback port."""
from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path


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
