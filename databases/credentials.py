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


def redis_cli_command(info: ConnectionInfo, password: str, spec: DatabaseSpec) -> str:
    """A copy-and-paste `redis-cli` line: cluster mode for sharded databases, TLS when it is on."""
    parts = ["redis-cli", "-h", info.host, "-p", str(info.port)]
    if spec.is_cluster:
        parts.append("-c")
    parts += ["-a", password, "--no-auth-warning"]
    return " ".join(shlex.quote(part) for part in parts)


def credentials_for(info: ConnectionInfo, password: str, spec: DatabaseSpec) -> Credentials:
    if not spec.default_user:  # the default user is off: no password to give, clients log in as their users
        cli = " ".join(shlex.quote(part) for part in ["redis-cli", "-h", info.host, "-p", str(info.port),
                                                      *(["-c"] if spec.is_cluster else []), "--user", "USERNAME",
                                                      "--askpass"])
        hint = ("defaultUser is false: the default user is off; connect as a data-plane user (docs/acl.md: "
                "its password from the Users page or /api/v1/access/users/NAMESPACE/NAME/reveal-password/)")
        return Credentials(host=info.host, port=info.port, service_names=list(info.service_names), password="",
                           redis_cli=cli, hints=[*info.hints, hint])
    return Credentials(host=info.host, port=info.port, service_names=list(info.service_names), password=password,
                       redis_cli=redis_cli_command(info, password, spec), hints=list(info.hints))
