"""The REDB `backup` field: what it says (BackupConfig), and the rules a write must meet (check_backup,
called by databases/validation.py). The backups themselves: backups/.

`interval` is in seconds, as the operator's CRD defines it. Locations supported here: `mount`
and `s3`; the operator's other ones (gcs, abs, swift, sftp, ftp) are refused until supported.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from core.validation import Problems, dns_subdomain_problem, expect_int, expect_mapping, expect_string

MIN_INTERVAL_SECONDS = 60
MAX_INTERVAL_SECONDS = 30 * 24 * 3600
SUPPORTED = ("mount", "s3")
NOT_SUPPORTED = ("gcs", "abs", "swift", "sftp", "ftp")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_SUBDIR = re.compile(r"^[A-Za-z0-9._/-]{1,200}$")


@dataclass(frozen=True)
class S3Location:
    secret_name: str
    bucket: str
    subdir: str = ""
    region: str = ""


@dataclass(frozen=True)
class BackupConfig:
    """A database's backup settings: how often (seconds, None: only on demand) and where."""
    interval: int | None = None
    mount_path: str | None = None
    s3: S3Location | None = None

    @property
    def locations(self) -> list[str]:
        return [name for name, there in (("mount", self.mount_path), ("s3", self.s3)) if there]

    @classmethod
    def from_spec(cls, spec: dict) -> BackupConfig | None:
        """The stored (validated) spec's backup settings, or None when it has no `backup`."""
        backup = spec.get("backup")
        if not isinstance(backup, dict):
            return None
        s3 = backup.get("s3")
        return cls(
            interval=backup.get("interval") or None,
            mount_path=(backup.get("mount") or {}).get("path"),
            s3=S3Location(secret_name=s3["awsSecretName"], bucket=s3["bucketName"], subdir=s3.get("subdir") or "",
                          region=s3.get("regionName") or "") if isinstance(s3, dict) else None,
        )


def check_backup(problems: Problems, value: object, *, mount_roots: list[str] = (), path: str = "spec.backup") -> None:
    """Every problem of a `backup` field (its shape against the operator's CRD is checked elsewhere; what a
    target needs for backups, by its driver's database_spec_problems).

    `mount_roots`: the folders a `mount.path` may be in (CONTROLPLANE_BACKUP_MOUNT_ROOTS), so a team cannot
    make the control plane write wherever it may. The path is on the control plane's machine, whatever the
    target: on Kubernetes, a volume mounted into the control plane's pods."""
    backup = expect_mapping(problems, value, path)
    if backup is None:
        return
    for name in NOT_SUPPORTED:
        if name in backup:
            problems.add(f"{path}.{name}", f"backup location '{name}' is not supported yet; use "
                                           f"{' or '.join(SUPPORTED)}")
    if not any(name in backup for name in (*SUPPORTED, *NOT_SUPPORTED)):
        problems.add(path, f"name where backups go: {' and/or '.join(SUPPORTED)}")
    expect_int(problems, backup.get("interval"), f"{path}.interval", minimum=MIN_INTERVAL_SECONDS,
               maximum=MAX_INTERVAL_SECONDS)
    if backup.get("intervalOffset") is not None:
        problems.add(f"{path}.intervalOffset", "not supported yet: backups run `interval` seconds after the last one")
    mount = expect_mapping(problems, backup.get("mount"), f"{path}.mount")
    if mount is not None:
        mount_path = expect_string(problems, mount.get("path"), f"{path}.mount.path")
        if mount_path and (not PurePosixPath(mount_path).is_absolute() or ".." in PurePosixPath(mount_path).parts
                           or len(mount_path) > 1024):
            problems.add(f"{path}.mount.path", "must be an absolute path without '..' (at most 1024 characters)")
        elif mount_path and not any(_inside(mount_path, root) for root in mount_roots):
            problems.add(f"{path}.mount.path", f"must be inside {' or '.join(mount_roots) or 'an allowed folder'} "
                                               "(CONTROLPLANE_BACKUP_MOUNT_ROOTS)")
    s3 = expect_mapping(problems, backup.get("s3"), f"{path}.s3")
    if s3 is not None:
        secret = s3.get("awsSecretName")
        problem = secret is not None and dns_subdomain_problem(secret)
        if problem:
            problems.add(f"{path}.s3.awsSecretName", problem)
        bucket = expect_string(problems, s3.get("bucketName"), f"{path}.s3.bucketName")
        if bucket and not _BUCKET.match(bucket):
            problems.add(f"{path}.s3.bucketName", "must be an S3 bucket name: 3-63 lowercase letters, digits, "
                                                  "'.' and '-'")
        subdir = expect_string(problems, s3.get("subdir"), f"{path}.s3.subdir")
        if subdir and (not _SUBDIR.match(subdir) or ".." in subdir.split("/")):
            problems.add(f"{path}.s3.subdir", "letters, digits, '.', '_', '-' and '/' only (at most 200), no '..'")


def _inside(path: str, root: str) -> bool:
    return PurePosixPath(path) == PurePosixPath(root) or PurePosixPath(root) in PurePosixPath(path).parents
