"""The hardening issue's abuse figures, replayed in-process at the shipped limits: what the answers are now.

100 wrong dashboard sign-ins then the right one; 100 credential reveals; 300 random API tokens.

    .venv/bin/python bench/abuse.py
"""
from __future__ import annotations

import secrets
import tempfile
import time
from collections import Counter
from pathlib import Path

from common import setup_django  # bench/ is on sys.path when run as a script


def summary(codes: list[int]) -> str:
    return ", ".join(f"{count}x {code}" for code, count in Counter(codes).items())


def run() -> None:
    from django.contrib.auth import get_user_model
    from django.test import Client
    from rest_framework.test import APIClient

    from accounts.models import Team
    from accounts.tokens import issue_token
    from clusters.services import create_cluster
    from databases.services import create_database

    user = get_user_model().objects.create_user("alice", password="alice-password-1")
    team = Team.objects.create(name="payments")
    team.members.add(user)
    spec = {"nodes": 3, "redisEnterpriseNodeResources": {"limits": {"cpu": "2", "memory": "4Gi"}}}
    cluster = create_cluster(name="rec", spec=spec, actor="bench").obj
    create_database(cluster=cluster, name="orders", spec={"memorySize": "100MB"}, team=team, actor="bench")

    start = time.perf_counter()
    codes = [Client().post("/login/", {"username": "alice", "password": f"wrong-{i}"}).status_code
             for i in range(100)]
    right = Client().post("/login/", {"username": "alice", "password": "alice-password-1"}).status_code
    print(f"100 wrong sign-ins: {summary(codes)} in {time.perf_counter() - start:.1f} s; then the right "
          f"password: {right} ({'locked out' if right == 429 else 'signed in'})")

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(user)}")
    start = time.perf_counter()
    codes = [api.post("/api/v1/clusters/rec/databases/orders/credentials/").status_code for _ in range(100)]
    print(f"100 credential reveals: {summary(codes)} in {time.perf_counter() - start:.1f} s")

    start = time.perf_counter()
    codes = []
    for _ in range(300):
        guess = APIClient(REMOTE_ADDR="203.0.113.5")
        guess.credentials(HTTP_AUTHORIZATION=f"Token {secrets.token_hex(20)}")
        codes.append(guess.get("/api/v1/databases/").status_code)
    print(f"300 random tokens from one address: {summary(codes)} in {time.perf_counter() - start:.1f} s")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-abuse-") as tmp:
        setup_django(Path(tmp))
        run()


if __name__ == "__main__":
    main()
