"""Benchmark of backups on the local target, on real processes and a real S3 server (moto_server):
time to back up N keys (mount + S3), to restore them into the same database, and the rate of each.

Run: .venv/bin/python bench/backup.py [--keys 200000] [--value-size 100] [--shards 1]
Everything runs under a temporary directory (own SQLite, broker Redis, S3 server); all processes stop at the end.
"""
from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

from common import options, setup_django  # bench/ is on sys.path when run as a script

from bench.local_endpoint import stop_all


def main() -> None:
    args = options(__doc__, keys=200_000, value_size=100, shards=1)

    from tests.servers import redis_server, s3_server

    workdir = Path(tempfile.mkdtemp(prefix="cp-bench-backup-"))
    os.environ["CONTROLPLANE_BACKUP_MOUNT_ROOTS"] = str(workdir)
    with redis_server() as broker_url, s3_server() as s3_url:
        setup_django(workdir, broker_url)
        try:
            run(args, workdir, s3_url)
        finally:
            stop_all(workdir)


def run(args, workdir: Path, s3_url: str) -> None:
    import boto3
    import redis
    from redis.cluster import RedisCluster

    from accounts.models import Team
    from backups import services
    from backups.models import StorageSecret
    from clusters.services import create_cluster
    from databases.services import create_database
    from engine.reconcile import reconcile_until_settled

    boto3.client("s3", endpoint_url=s3_url, aws_access_key_id="k", aws_secret_access_key="s",
                 region_name="us-east-1").create_bucket(Bucket="bench")
    StorageSecret.objects.create(name="bench", data=json.dumps(
        {"accessKeyId": "k", "secretAccessKey": "s", "endpointUrl": s3_url}))
    team = Team.objects.create(name="bench")
    cluster = create_cluster(name="bench", spec={"nodes": 3}, actor="bench").obj
    reconcile_until_settled("cluster", cluster.pk, timeout=60, interval=0.1)
    memory = max(200, args.keys * (args.value_size + 100) * 3 // 1_000_000)
    database = create_database(cluster=cluster, name="data", team=team, actor="bench", spec={
        "memorySize": f"{memory}MB", "shardCount": args.shards,
        "backup": {"mount": {"path": str(workdir / "mount")},
                   "s3": {"awsSecretName": "bench", "bucketName": "bench"}}}).obj
    outcome = reconcile_until_settled("database", database.pk, timeout=120, interval=0.1)
    assert outcome.state == "active", outcome
    database.refresh_from_db()
    port = int(database.status["endpoint"].rsplit(":", 1)[1])
    client = (RedisCluster(host="127.0.0.1", port=port, password=database.password) if args.shards > 1
              else redis.Redis(port=port, password=database.password))
    value = b"x" * args.value_size
    for start in range(0, args.keys, 1000):
        pipe = client.pipeline(transaction=False)
        for i in range(start, min(start + 1000, args.keys)):
            pipe.set(f"key:{i}", value)
        pipe.execute()

    started = time.monotonic()
    run_ = services.backup_now(database, actor="bench")
    backup_seconds = time.monotonic() - started
    assert run_.ok, run_.error
    started = time.monotonic()
    result = services.restore(database, actor="bench", confirm=True)
    restore_seconds = time.monotonic() - started
    assert result.keys == args.keys
    print(f"backup: {args.keys} keys x {args.value_size} B, {args.shards} shard(s): {run_.size / 1e6:.1f} MB RDB "
          f"to mount + S3 in {backup_seconds:.2f} s ({args.keys / backup_seconds:,.0f} keys/s)")
    print(f"restore (verify, load, flush, MIGRATE): {restore_seconds:.2f} s "
          f"({args.keys / restore_seconds:,.0f} keys/s)")


if __name__ == "__main__":
    main()
