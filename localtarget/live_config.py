"""Settings Redis changes live: CONFIG SET, then CONFIG REWRITE so they survive a restart.

maxmemory, maxmemory-policy, persistence (appendonly/appendfsync/save), the password
(requirepass/masterauth) and TLS (the TLS port, a renewed certificate: new file names make Redis load the
new pair) never need a restart; replicas are changed before their master so a
password rotation never locks a replica out.
"""
from __future__ import annotations

import redis

from core.drivers import Happening
from core.errors import TargetError

from . import processes, sentinel
from .layout import ShardProcess
from .shards import DatabaseParts, observe_views

SECRET_KEYS = ("masterauth", "requirepass")


def wanted_settings(parts: DatabaseParts, process: ShardProcess) -> dict[str, str]:
    wanted = parts.spec.redis_config().as_config_set()
    wanted.update({"masterauth": parts.password, "requirepass": parts.password, "masteruser": parts.username or ""})
    wanted.update(parts.tls_settings(process))
    return wanted


def differences(current: dict[str, str], wanted: dict[str, str]) -> dict[str, str]:
    """The settings whose live value differs from the wanted one."""
    return {key: value for key, value in wanted.items() if str(current.get(key, "")) != str(value)}


def apply(parts: DatabaseParts) -> list[Happening]:
    views, infos = observe_views(parts, parts.processes)
    order = sorted(parts.processes, key=lambda p: infos.get(p.name, {}).get("role") == "master")
    changed: dict[str, list[str]] = {}
    rotated = False
    for proc in order:
        info = infos.get(proc.name)
        if info is None:
            continue
        conn = processes.client(proc.port, info["_password"], username=info["_username"])
        try:
            current = conn.config_get("*")
            diff = differences(current, wanted_settings(parts, proc))
            if not diff:
                continue
            if "masterauth" in diff:
                conn.config_set("masterauth", diff.pop("masterauth"))
            tls = {key: diff.pop(key) for key in list(diff) if key.startswith("tls-")}
            for key, value in diff.items():
                conn.config_set(key, value)
            if tls:  # in one CONFIG SET: a renewed certificate and its key are only valid together
                conn.execute_command("CONFIG", "SET", *[word for pair in tls.items() for word in pair])
                diff.update(tls)
            conn.config_rewrite()
        except redis.RedisError as exc:
            raise TargetError(f"{proc.name} refused a live config change: {exc}") from exc
        rotated = rotated or "requirepass" in diff
        public = [k for k in diff if k not in SECRET_KEYS]
        if public:
            changed[proc.name] = public
    happenings = []
    if rotated:
        if parts.spec.replication:
            sentinel.set_password(parts.sentinels, parts.monitor, parts.password, username=parts.username)
        happenings.append(Happening("PasswordRotated", "the database password was changed live on every "
                                    "process; the old password is refused from now on"))
    for name, keys in changed.items():
        happenings.append(Happening("ConfigApplied", f"{', '.join(sorted(keys))} changed live on {name} "
                                    "(CONFIG SET + CONFIG REWRITE, no restart)"))
    return happenings
