"""Where backups are kept: a mounted folder or an S3 bucket. Each stores whole backup folders by name.

A backup becomes visible only when its manifest is written, and the manifest is written last, so a
backup cut short never lists.
"""
from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import boto3
from boto3.exceptions import Boto3Error
from botocore.exceptions import BotoCoreError, ClientError

from databases.backup_spec import BackupConfig, S3Location
from targets.private_files import private_dir

from .manifest import MANIFEST


class StorageError(Exception):
    """A location cannot be read or written (missing credentials, unreachable, refused)."""


class Storage(Protocol):
    label: str

    def put(self, name: str, folder: Path) -> None:
        """Store the files of `folder` as backup `name` (manifest last)."""

    def fetch(self, name: str, into: Path) -> None:
        """Copy backup `name`'s files into `into`."""

    def names(self) -> list[str]:
        """Backups with a manifest, oldest first."""

    def delete(self, name: str) -> None: ...


def _ordered(folder: Path) -> list[Path]:
    return sorted((p for p in folder.iterdir() if p.is_file()), key=lambda p: (p.name == MANIFEST, p.name))


class MountStorage:
    """A folder (a mounted volume): `<path>/<cluster>/<database>/<backup>/`; files 0600, folders 0700."""

    def __init__(self, path: str, prefix: str):
        self.root = Path(path) / prefix
        self.label = f"mount {self.root}"

    def put(self, name: str, folder: Path) -> None:
        try:
            destination = private_dir(self.root / name)
            for source in _ordered(folder):
                partial = destination / f".{source.name}.partial"
                shutil.copyfile(source, partial)
                os.chmod(partial, 0o600)
                os.replace(partial, destination / source.name)
        except OSError as exc:
            raise StorageError(f"cannot write to {self.root}: {exc.strerror or exc}") from None

    def fetch(self, name: str, into: Path) -> None:
        source = self.root / name
        if not (source / MANIFEST).is_file():
            raise StorageError(f"no backup {name} in {self.root}")
        try:
            for path in _ordered(source):
                if not path.name.startswith("."):
                    shutil.copyfile(path, into / path.name)
        except OSError as exc:
            raise StorageError(f"cannot read backup {name} in {self.root}: {exc.strerror or exc}") from None

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / MANIFEST).is_file())

    def delete(self, name: str) -> None:
        shutil.rmtree(self.root / name, ignore_errors=True)


class S3Storage:
    """An S3 bucket (AWS or any S3-compatible server): keys `<subdir>/<cluster>/<database>/<backup>/<file>`."""

    def __init__(self, location: S3Location, prefix: str, credentials: dict[str, str]):
        self.bucket = location.bucket
        self.prefix = "/".join(part for part in (location.subdir.strip("/"), prefix) if part)
        self.label = f"s3://{self.bucket}/{self.prefix}"
        self.client = boto3.client(
            "s3", aws_access_key_id=credentials.get("accessKeyId"),
            aws_secret_access_key=credentials.get("secretAccessKey"),
            endpoint_url=credentials.get("endpointUrl") or None,
            region_name=location.region or credentials.get("region") or "us-east-1")

    def _call(self, what: str, function, *args, **kwargs):
        try:
            return function(*args, **kwargs)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise StorageError(f"{self.label}: {what} refused: {error.get('Code')} {error.get('Message', '')}"
                               ) from None
        except (BotoCoreError, Boto3Error) as exc:  # S3UploadFailedError wraps a refusal in a Boto3Error
            raise StorageError(f"{self.label}: {what} failed: {exc}") from None

    def put(self, name: str, folder: Path) -> None:
        for source in _ordered(folder):
            key = f"{self.prefix}/{name}/{source.name}"
            self._call("upload", self.client.upload_file, str(source), self.bucket, key)

    def fetch(self, name: str, into: Path) -> None:
        keys = self._keys(f"{self.prefix}/{name}/")
        if f"{self.prefix}/{name}/{MANIFEST}" not in keys:
            raise StorageError(f"no backup {name} in {self.label}")
        for key in keys:
            self._call("download", self.client.download_file, self.bucket, key, str(into / key.rsplit("/", 1)[1]))

    def names(self) -> list[str]:
        suffix = f"/{MANIFEST}"
        return sorted(key[len(self.prefix) + 1:-len(suffix)] for key in self._keys(f"{self.prefix}/")
                      if key.endswith(suffix) and key.count("/") == self.prefix.count("/") + 2)

    def delete(self, name: str) -> None:
        keys = self._keys(f"{self.prefix}/{name}/")
        manifest = f"{self.prefix}/{name}/{MANIFEST}"
        for key in sorted(keys, key=lambda k: k != manifest):  # the manifest first: it stops listing at once
            self._call("delete", self.client.delete_object, Bucket=self.bucket, Key=key)

    def _keys(self, prefix: str) -> list[str]:
        keys, token = [], None
        for _page in range(10_000):
            kwargs = {"Bucket": self.bucket, "Prefix": prefix, **({"ContinuationToken": token} if token else {})}
            page = self._call("list", self.client.list_objects_v2, **kwargs)
            keys += [item["Key"] for item in page.get("Contents", [])]
            token = page.get("NextContinuationToken")
            if not token:
                break
        return keys


def s3_credentials(secret_name: str) -> dict[str, str]:
    """The stored secret `awsSecretName` names (StorageSecret); StorageError if there is none."""
    from .models import StorageSecret

    secret = StorageSecret.objects.filter(name=secret_name).first()
    if secret is None:
        raise StorageError(f"no S3 credentials named {secret_name}: create them with "
                           f"`manage.py backup_secret {secret_name}`")
    return secret.values()


def s3_credentials_of_secret(values: dict[str, str], where: str) -> dict[str, str]:
    """S3 credentials from a Kubernetes Secret's keys, as the operator names them: AWS_ACCESS_KEY_ID and
    AWS_SECRET_ACCESS_KEY, and for an S3-compatible server AWS_ENDPOINT_URL and AWS_REGION."""
    if not values.get("AWS_ACCESS_KEY_ID") or not values.get("AWS_SECRET_ACCESS_KEY"):
        raise StorageError(f"Secret {where} (backup.s3.awsSecretName) is missing or lacks AWS_ACCESS_KEY_ID and "
                           "AWS_SECRET_ACCESS_KEY")
    return {"accessKeyId": values["AWS_ACCESS_KEY_ID"], "secretAccessKey": values["AWS_SECRET_ACCESS_KEY"],
            "endpointUrl": values.get("AWS_ENDPOINT_URL", ""), "region": values.get("AWS_REGION", "")}


def storages_for(config: BackupConfig, cluster: str, database: str,
                 target_credentials: Callable[[str], dict[str, str] | None] = lambda name: None) -> list[Storage]:
    """The locations of a database's backup settings, mount first. `target_credentials(awsSecretName)`: the
    credentials the database's target keeps under that name (a Kubernetes Secret), None for the stored ones."""
    prefix = f"{cluster}/{database}"
    found: list[Storage] = []
    if config.mount_path:
        found.append(MountStorage(config.mount_path, prefix))
    if config.s3:
        credentials = target_credentials(config.s3.secret_name) or s3_credentials(config.s3.secret_name)
        found.append(S3Storage(config.s3, prefix, credentials))
    return found


def read_manifest(folder: Path) -> object:
    try:
        return json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
