"""What a database owner needs to connect: where, the password, and a ready `redis-cli` command."""
from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from core.drivers import ConnectionInfo
from specs.database import DatabaseSpec


@dataclass(frozen=True)
class Credentials:
    host: str
    port: int
    service_names: list[str]
    password: str
    redis_cli: str
    # Extra steps to connect from elsewhere, e.g. a `kubectl port-forward` line.
    hints: list[str] = field(default_factory=list)
    # With TLS on: the CA certificate (PEM) that signed the server's certificate, for `--cacert`.
    ca_certificate: str = ""


CA_FILE = "ca.crt"  # the file name the redis-cli line expects the CA certificate in
CLIENT_FILES = ("client.crt", "client.key")  # mutual TLS: the client's own certificate and key


def tls_arguments(spec: DatabaseSpec) -> list[str]:
    """redis-cli's TLS flags: the CA to trust, and with mutual TLS the client's own certificate and key."""
    if spec.tls_mode == "disabled":
        return []
    mutual = ["--cert", CLIENT_FILES[0], "--key", CLIENT_FILES[1]] if spec.client_certificates else []
    return ["--tls", "--cacert", CA_FILE, *mutual]


def redis_cli_command(info: ConnectionInfo, password: str, spec: DatabaseSpec) -> str:
    """A copy-and-paste `redis-cli` line: cluster mode for sharded databases, TLS when it is on."""
    parts = ["redis-cli", "-h", info.host, "-p", str(info.port)]
    if spec.is_cluster:
        parts.append("-c")
    parts += tls_arguments(spec)
    parts += ["-a", password, "--no-auth-warning"]
    return " ".join(shlex.quote(part) for part in parts)


def credentials_for(info: ConnectionInfo, password: str, spec: DatabaseSpec, ca_certificate: str = "",
                    certificate_secret: str = "") -> Credentials:
    """`certificate_secret`: the secret of the cluster's own server certificate, whose CA `ca_certificate` is."""
    hints = list(info.hints)
    tls = tls_arguments(spec)
    if ca_certificate:
        hints.append(f"TLS: save the CA certificate (caCertificate) as {CA_FILE} next to where you run redis-cli; "
                     "plain connections are refused")
    if spec.tls_mode != "disabled" and spec.client_certificates:
        hints.append(f"mutual TLS: put a client certificate signed by one of {', '.join(spec.client_certificates)} "
                     f"and its key in {CLIENT_FILES[0]} and {CLIENT_FILES[1]}; clients without one are refused")
    if certificate_secret:
        hints.append(f"the server certificate is the cluster's own (certificates.proxyCertificateSecretName: "
                     f"{certificate_secret}); caCertificate is the CA given with it")
    if not spec.default_user:  # the default user is off: no password to give, clients log in as their users
        cli = " ".join(shlex.quote(part) for part in ["redis-cli", "-h", info.host, "-p", str(info.port),
                                                      *(["-c"] if spec.is_cluster else []), *tls,
                                                      "--user", "USERNAME", "--askpass"])
        hint = ("defaultUser is false: the default user is off; connect as a data-plane user (docs/acl.md: "
                "its password from the Users page or /api/v1/access/users/NAMESPACE/NAME/reveal-password/)")
        return Credentials(host=info.host, port=info.port, service_names=list(info.service_names), password="",
                           redis_cli=cli, hints=[*hints, hint], ca_certificate=ca_certificate)
    return Credentials(host=info.host, port=info.port, service_names=list(info.service_names), password=password,
                       redis_cli=redis_cli_command(info, password, spec), hints=hints,
                       ca_certificate=ca_certificate)
