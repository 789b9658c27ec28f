"""`manage.py backup_secret NAME [--endpoint-url URL] [--region R] | --redis-uri | --password | --delete`: the
secrets specs name on the local target: the S3 credentials of `backup.s3.awsSecretName`, (`--redis-uri`) the `uri`
of a Redis that `replicaSources` (replicaSourceType SECRET) follows, or (`--password`) the `password` of a
RedisEnterpriseUser's `passwordSecrets`.

The values are read from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY; SOURCE_REDIS_URI;
USER_PASSWORD), never from the command line, and stored encrypted; no command or API shows them back.
"""
from __future__ import annotations

import json
import os

from django.core.management.base import BaseCommand, CommandError

from access.passwords import MAX_PASSWORD, PASSWORD_KEY
from backups.migration import Source
from backups.models import StorageSecret
from core.validation import dns_subdomain_problem


class Command(BaseCommand):
    help = "Store (or delete) S3 credentials for backups, read from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY."

    def add_arguments(self, parser):
        parser.add_argument("name", help="the name spec.backup.s3.awsSecretName uses")
        parser.add_argument("--endpoint-url", default="", help="an S3-compatible server (default: AWS)")
        parser.add_argument("--region", default="", help="the bucket's region (default us-east-1)")
        parser.add_argument("--redis-uri", action="store_true",
                            help="store SOURCE_REDIS_URI (redis[s]://[:password@]host:port) for replicaSources instead")
        parser.add_argument("--password", action="store_true",
                            help="store USER_PASSWORD as the `password` a RedisEnterpriseUser's passwordSecrets names")
        parser.add_argument("--delete", action="store_true", help="remove the stored credentials")

    def handle(self, *args, name: str, endpoint_url: str, region: str, delete: bool, redis_uri: bool,
               password: bool = False, **options):
        problem = dns_subdomain_problem(name)
        if problem:
            raise CommandError(f"name: {problem}")
        if delete:
            deleted, _ = StorageSecret.objects.filter(name=name).delete()
            self.stdout.write(f"credentials {name} {'deleted' if deleted else 'did not exist'}")
            return
        if redis_uri:
            uri = os.environ.get("SOURCE_REDIS_URI", "")
            try:
                Source.from_uri(uri, tls_later=True)
            except ValueError as exc:
                raise CommandError(f"SOURCE_REDIS_URI: {exc}") from None
            _, created = StorageSecret.objects.update_or_create(name=name, defaults={"data": json.dumps({"uri": uri})})
            self.stdout.write(f"secret {name} {'stored' if created else 'replaced'} (encrypted)")
            return
        if password:
            value = os.environ.get("USER_PASSWORD", "")
            if not 1 <= len(value) <= MAX_PASSWORD:
                raise CommandError(f"set USER_PASSWORD in the environment (1 to {MAX_PASSWORD} characters)")
            data = json.dumps({PASSWORD_KEY: value})
            _, created = StorageSecret.objects.update_or_create(name=name, defaults={"data": data})
            self.stdout.write(f"secret {name} {'stored' if created else 'replaced'} (encrypted); users naming it in "
                              "passwordSecrets get it at their databases' next reconcile")
            return
        key_id, secret = os.environ.get("AWS_ACCESS_KEY_ID", ""), os.environ.get("AWS_SECRET_ACCESS_KEY", "")
        if not key_id or not secret:
            raise CommandError("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment")
        data = {"accessKeyId": key_id, "secretAccessKey": secret, "endpointUrl": endpoint_url, "region": region}
        _, created = StorageSecret.objects.update_or_create(name=name, defaults={"data": json.dumps(data)})
        self.stdout.write(f"credentials {name} {'stored' if created else 'replaced'} (encrypted)")
