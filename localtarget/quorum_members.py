"""A cluster's quorum members (redis-sentinel), of either sentinel group (layout.SentinelGroup): the config each
runs with (its password; for the TLS group its TLS port and certificate), starting a missing one, and restarting
one member per pass for what a sentinel only takes at start (a new version, its password, a renewed certificate)
while every member answers, so a majority always does."""
from __future__ import annotations

import shutil

from core.drivers import Happening
from core.engines import describe

from . import layout, processes, sentinel, tls, versions
from .layout import SentinelProcess
from .ports import PortRegistry


def tls_settings(member: SentinelProcess, files: tls.TlsFiles | None) -> dict[str, str] | None:
    """A TLS group member's TLS settings; None for a plain member."""
    return tls.sentinel_settings(files, member.tls_port) if files is not None and member.tls_port else None


def write_config(member: SentinelProcess, settings: dict[str, str] | None = None) -> None:
    """A new member's config; for an existing one (it holds what the sentinel learned: kept) only the
    password and TLS lines are put right."""
    if not member.config_file.exists():
        processes.write_config(member, layout.sentinel_conf(member, settings))
        return
    kept = [line for line in member.config_file.read_text().splitlines()  # the sentinel's rewrite keeps the
            if not line.startswith(("requirepass ", "user default ", "tls-"))]  # password as a `user default` too
    processes.write_config(member, "\n".join([*kept, *layout.sentinel_password_lines(member),
                                              *layout.sentinel_tls_lines(settings)]) + "\n")


def ensure(member: SentinelProcess, version: str, ports: PortRegistry,
           files: tls.TlsFiles | None = None) -> list[Happening]:
    """Start the member if it is not running. A port taken by another program is given back (a new one is
    chosen on the next pass) and the member's folder removed: its config names the old port."""
    if processes.running_pid(member):
        return []
    restarted = member.config_file.exists()
    write_config(member, tls_settings(member, files))
    try:
        processes.start(member, versions.sentinel_binary(version), password=member.password,
                        extra_args=["--sentinel"])
    except processes.PortTaken:
        group = layout.TLS_SENTINELS if member.tls_port else layout.PLAIN_SENTINELS
        cluster_name, index = member.directory.parent.parent.name, int(member.directory.name)
        ports.release(group.key(cluster_name, index))
        ports.release(group.tls_key(cluster_name, index))
        shutil.rmtree(member.directory, ignore_errors=True)
        raise
    processes.write_state(member, version=version)
    if restarted:
        return [Happening("ProcessRestarted", f"{member.name} (port {member.port}) was not running; restarted",
                          warning=True)]
    return [Happening("ProcessStarted", f"{member.name} started on port {member.port}")]


def restart_one(members: list[SentinelProcess], version: str,
                files: tls.TlsFiles | None = None) -> list[Happening]:
    """Restart one member per reconcile on the wanted version, with its password (a member from before
    sentinels had one), or with a renewed certificate (sentinels load certificates only at start)."""
    for member in members:
        upgrade = processes.read_state(member).get("version") not in (None, version)
        secure = processes.configured_password(member) != member.password
        settings = tls_settings(member, files)
        renewed = settings is not None and \
            processes.configured_value(member, "tls-cert-file") != settings["tls-cert-file"]
        if not (upgrade or secure or renewed):
            continue
        if len(sentinel.answering(members)) < len(members):
            return []  # wait until every member answers before taking one down
        processes.stop(member)
        write_config(member, settings)
        processes.start(member, versions.sentinel_binary(version), password=member.password,
                        extra_args=["--sentinel"])
        processes.write_state(member, version=version)
        if upgrade:
            return [Happening("UpgradeStep", f"{member.name} restarted on {describe(version)}")]
        if renewed:
            return [Happening("CertificateRenewed", f"{member.name} restarted with the renewed certificate")]
        return [Happening("SentinelSecured", f"{member.name} restarted with a password (requirepass); "
                          "unauthenticated clients are refused")]
    return []
