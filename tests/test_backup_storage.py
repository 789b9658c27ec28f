"""Backup storage against a real S3 server (moto_server) and a real folder: a backup lists only once its
manifest is stored, deletes take it off the list, and a refusal is a clear StorageError."""
from __future__ import annotations

import pytest

from backups.storage import MountStorage, S3Storage, StorageError
from databases.backup_spec import S3Location

from .servers import s3_server

CREDENTIALS = {"accessKeyId": "test-key", "secretAccessKey": "test-secret-value"}


@pytest.fixture(scope="module")
def s3_url():
    with s3_server() as url:
        yield url


def backup_folder(tmp_path, name: str):
    folder = tmp_path / name
    folder.mkdir()
    (folder / "shard-0.rdb").write_bytes(b"REDIS0011" + name.encode())
    (folder / "manifest.json").write_text("{}")
    return folder


@pytest.mark.parametrize("kind", ["mount", "s3"])
def test_a_stored_backup_round_trips_and_deletes(kind, s3_url, tmp_path):
    if kind == "s3":
        storage = S3Storage(S3Location("creds", "round-trip", subdir="team/a"), "rec/db",
                            {**CREDENTIALS, "endpointUrl": s3_url})
        storage.client.create_bucket(Bucket="round-trip")
    else:
        storage = MountStorage(str(tmp_path / "mount"), "rec/db")
    storage.put("20261127T000000000Z", backup_folder(tmp_path, "one"))
    storage.put("20261127T010000000Z", backup_folder(tmp_path, "two"))
    partial = backup_folder(tmp_path, "partial")
    (partial / "manifest.json").unlink()
    storage.put("20261127T020000000Z", partial)  # no manifest: never listed
    assert storage.names() == ["20261127T000000000Z", "20261127T010000000Z"]
    into = tmp_path / "fetched"
    into.mkdir()
    storage.fetch("20261127T010000000Z", into)
    assert (into / "shard-0.rdb").read_bytes() == b"REDIS0011two"
    storage.delete("20261127T000000000Z")
    assert storage.names() == ["20261127T010000000Z"]
    with pytest.raises(StorageError, match="no backup"):
        storage.fetch("20261127T000000000Z", into)


def test_a_missing_bucket_is_a_clear_error_without_the_secret(s3_url, tmp_path):
    storage = S3Storage(S3Location("creds", "no-such-bucket"), "rec/db", {**CREDENTIALS, "endpointUrl": s3_url})
    with pytest.raises(StorageError) as caught:
        storage.put("20261127T000000000Z", backup_folder(tmp_path, "one"))
    assert "no-such-bucket" in str(caught.value) and "NoSuchBucket" in str(caught.value)
    assert "test-secret-value" not in str(caught.value)
