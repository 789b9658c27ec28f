"""The TLS relay of a `replicaSources` source with `tlsSniName`: redis-server's replication link sends no SNI
(checked with redis-server 7.0: its ClientHello carries no server name, whatever host it connects to), and the
control plane's redis-py client sends the uri's host, so a source behind an SNI router (an ingress or route with
TLS passthrough, a Redis Enterprise database's route) cannot be reached by them directly.

So the follower and the control plane's fence and progress checks reach such a source through one HAProxy on the
control plane's machine, per database: it listens on a loopback port (plain: both ends are on this machine) and
opens the TLS connection to the source itself, sending `tlsSniName` as SNI, checking the source's certificate
against the CA of `serverCertSecret` and its name against `tlsSniName`, and presenting the follower's certificate
(`clientKeySecret`, or the throwaway one). HAProxy reads those files when it starts, so a changed file or setting
restarts it (on the same port); the follower's link then drops and is made again through the new one.
"""
from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

from core.errors import TargetError
from localtarget import haproxy, processes
from localtarget.ports import is_listening
from targets.private_files import PRIVATE_UMASK, private_dir, write_private

from .link_plan import tls_fingerprint
from .loader import free_port
from .migration import MigrationError, Source

STATE = "relay.json"
HOST = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")
START_SECONDS = 10


def render(port: int, source: Source, client_pem: Path, pid_file: Path) -> str:
    """The relay's HAProxy config: loopback in, TLS with SNI out (`source.tls` checks the source's certificate)."""
    return "\n".join([
        "# Written by the control plane: the TLS relay of one replicaSources source (SNI).",
        "global",
        "    daemon",
        "    nbthread 1",
        "    maxconn 64",
        f"    pidfile {pid_file}",
        "defaults",
        "    mode tcp",
        "    timeout connect 5s",
        "    timeout client 24h",
        "    timeout server 24h",
        "listen source",
        f"    bind 127.0.0.1:{port}",
        f"    server source {source.host}:{source.port} ssl sni str({source.sni}) verify required "
        f"ca-file {source.tls.ca_file} verifyhost {source.sni} crt {client_pem}",
    ]) + "\n"


def ensure(folder: Path, source: Source) -> int:
    """The loopback port of the relay to `source` (sending `source.sni`), started or restarted (same port) so it
    runs with the current files; MigrationError saying why not."""
    host, source_port, tls = source.host, source.port, source.tls
    if not HOST.fullmatch(host):  # it goes into HAProxy's config: a name or an IPv4 address, nothing else
        raise MigrationError(f"the uri's host {host[:64]!r} is not a host name or IPv4 address; the SNI relay "
                             "reaches only those")
    folder = private_dir(folder)
    config, pid_file, client_pem = folder / "relay.cfg", folder / "relay.pid", folder / "relay-client.pem"
    try:
        state = json.loads((folder / STATE).read_text())
        port = int(state["port"])
    except (OSError, ValueError, KeyError, TypeError):
        state, port = {}, free_port()
    try:
        cert, key, ca = tls.cert_file.read_text(), tls.key_file.read_text(), tls.ca_file.read_text()
    except OSError as exc:
        raise MigrationError(f"the TLS files for {host}:{source_port} cannot be read: {exc.strerror}") from None
    text = render(port, source, client_pem, pid_file)
    digest = tls_fingerprint(text, ca, cert)  # the key matches the certificate: a new key comes with a new one
    pid = _running_pid(pid_file, config)
    if pid is not None and state.get("digest") == digest:
        return port
    processes.stop_helper(pid)
    write_private(client_pem, cert.rstrip("\n") + "\n" + key)
    write_private(config, text)
    try:
        done = subprocess.run([haproxy.binary(), "-f", str(config), "-D", "-p", str(pid_file)],
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30,
                              start_new_session=True, umask=PRIVATE_UMASK)
    except (TargetError, OSError, subprocess.TimeoutExpired) as exc:  # haproxy missing or hung
        raise MigrationError(f"the SNI relay to {host}:{source_port} did not start: {exc}") from None
    if done.returncode != 0:
        raise MigrationError(f"the SNI relay to {host}:{source_port} did not start: "
                             f"{(done.stderr or '').strip()[-300:]}")
    deadline = time.monotonic() + START_SECONDS
    while not is_listening(port):
        if time.monotonic() > deadline:
            raise MigrationError(f"the SNI relay to {host}:{source_port} does not listen on {port}")
        time.sleep(0.05)
    write_private(folder / STATE, json.dumps({"port": port, "digest": digest}))
    return port


def stop(folder: Path) -> None:
    """Stop the relay whose files are in `folder`, if one runs."""
    processes.stop_helper(_running_pid(folder / "relay.pid", folder / "relay.cfg"))


def _running_pid(pid_file: Path, config: Path) -> int | None:
    found = processes.helper_running(pid_file, lambda arguments: b"haproxy" in arguments[0]
                                     and str(config).encode() in arguments)  # ours, not a reused pid
    return found[0] if found else None
