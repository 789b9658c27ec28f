"""The REC/REDB command line: apply, get, delete, credentials, reconcile. Errors are messages, not tracebacks."""
from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from clusters.models import Cluster
from databases.models import Database
from timeline.models import Event

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def run(*args, **kwargs) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err, **kwargs)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def applied(local_target):
    run("apply", "-f", str(EXAMPLES / "rec.yaml"))
    run("apply", "-f", str(EXAMPLES / "redb.yaml"))


def test_apply_prints_what_happened(local_target):
    out, _ = run("apply", "-f", str(EXAMPLES / "rec-and-databases.yaml"))
    assert out.splitlines() == [
        "redisenterprisecluster.app.redislabs.com/payments created",
        "redisenterprisedatabase.app.redislabs.com/sessions created",
        "redisenterprisedatabase.app.redislabs.com/ledger-cache created",
    ]
    out, _ = run("apply", "-f", str(EXAMPLES / "rec-and-databases.yaml"))
    assert out.splitlines()[0] == "redisenterprisecluster.app.redislabs.com/payments unchanged"


def test_apply_reports_field_errors_and_applies_nothing(local_target, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text((EXAMPLES / "rec.yaml").read_text().replace("nodes: 3", "nodes: 2") + "---\n"
                   + (EXAMPLES / "redb.yaml").read_text().replace("256MB", "lots"))
    with pytest.raises(CommandError) as info:
        run("apply", "-f", str(bad))
    assert str(info.value) == (
        "invalid input:\n"
        "  documents[0].spec.nodes: must be odd so a majority of quorum members exists (got 2)\n"
        "  documents[1].spec.redisEnterpriseCluster: no cluster in namespace default; name one in "
        "spec.redisEnterpriseCluster.name")
    assert not Cluster.objects.exists()


def test_apply_prints_warnings_and_sets_the_team(local_target, team, tmp_path):
    path = tmp_path / "rec.yaml"
    path.write_text((EXAMPLES / "rec.yaml").read_text() + "  license: abc\n")
    _, err = run("apply", "-f", str(path))
    assert err.startswith("Warning: documents[0].spec.license: accepted but not used")
    run("apply", "-f", str(EXAMPLES / "redb.yaml"), "--team", "payments")
    assert Database.objects.get(name="redb").team == team
    with pytest.raises(CommandError, match="no team named nobody"):
        run("apply", "-f", str(EXAMPLES / "redb.yaml"), "--team", "nobody")


def test_get_tables_have_kubectl_columns(applied):
    out, _ = run("get", "rec")
    header, row = out.splitlines()
    assert header.split() == ["NAME", "NODES", "VERSION", "STATE", "SPEC", "STATUS", "AGE"]
    assert row.split()[:3] == ["rec", "3", "7.2"]
    out, _ = run("get", "redb")
    header, row = out.splitlines()
    assert header.split() == ["NAME", "VERSION", "PORT", "CLUSTER", "SHARDS", "STATUS", "SPEC", "STATUS", "AGE"]
    port = Database.objects.get().spec["databasePort"]
    assert row.split()[:5] == ["redb", "7.2", str(port), "rec", "1"]


def test_get_shows_status_once_reconciled(applied):
    Cluster.objects.update(status={"state": "Running", "specStatus": "Valid", "observedGeneration": 1})
    out, _ = run("get", "rec", "rec")
    assert out.splitlines()[1].split()[3:5] == ["Running", "Valid"]


def test_get_yaml_round_trips_through_apply(applied, tmp_path):
    out, _ = run("get", "redb", "redb", "-o", "yaml")
    document = yaml.safe_load(out)
    assert document["kind"] == "RedisEnterpriseDatabase"
    original = yaml.safe_load((EXAMPLES / "redb.yaml").read_text())["spec"]
    assert {k: document["spec"][k] for k in original} == original
    assert document["spec"]["databaseSecretName"] == "redb-redb" and "status" in document
    path = tmp_path / "out.yaml"
    path.write_text(out)
    applied_out, _ = run("apply", "-f", str(path))
    assert applied_out.strip() == "redisenterprisedatabase.app.redislabs.com/redb unchanged"
    listing, _ = run("get", "rec", "-o", "json")
    assert json.loads(listing)["items"][0]["metadata"]["name"] == "rec"


def test_get_unknown_kind_and_name(applied):
    with pytest.raises(CommandError, match="unknown kind 'pods'"):
        run("get", "pods")
    with pytest.raises(CommandError, match='redisenterprisedatabase.app.redislabs.com "nope" not found'):
        run("get", "redb", "nope")
    out, _ = run("get", "redb", "-n", "elsewhere")
    assert out.strip() == "No resources found."


def test_delete(applied):
    with pytest.raises(CommandError, match="cluster rec still has databases: redb; delete them first"):
        run("delete", "rec", "rec")
    out, _ = run("delete", "redb", "redb", "--delete-data")
    assert out.startswith('redisenterprisedatabase.app.redislabs.com "redb" deleted (data removed')
    database = Database.objects.get()
    assert database.deletion_requested_at is not None and database.delete_data
    run("delete", "rec", "rec")
    assert Cluster.objects.get().deletion_requested_at is not None


def test_credentials_prints_and_records(applied):
    database = Database.objects.get()
    out, _ = run("credentials", "redb", "--as", "carol")
    lines = dict(line.split(":", 1) for line in out.splitlines())
    assert lines["port"].strip() == str(database.spec["databasePort"])
    assert lines["password"].strip() == database.password
    assert lines["redis-cli"].strip().startswith("redis-cli -h 127.0.0.1 -p ")
    event = Event.objects.get(reason="CredentialsRevealed")
    assert event.actor == "carol" and database.password not in event.message


def test_reconcile_unknown_name(applied):
    with pytest.raises(CommandError, match="nothing named ghost to reconcile"):
        run("reconcile", "ghost")


def test_reconcile_a_deleted_cluster_until_gone(local_target):
    run("apply", "-f", str(EXAMPLES / "rec.yaml"))
    run("delete", "rec", "rec")
    out, _ = run("reconcile", "rec", "--kind", "rec", "--wait", "--timeout", "60")
    assert out.strip() == "cluster rec: gone"
    assert not Cluster.objects.exists()


def test_command_line_errors_are_not_tracebacks(tmp_path):
    result = subprocess.run([sys.executable, "manage.py", "apply", "-f", str(tmp_path / "missing.yaml")],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip() == f"CommandError: cannot read {tmp_path / 'missing.yaml'}: No such file or directory"


@pytest.mark.parametrize("named", [[], ["rec", "--kind", "rec"]], ids=["everything", "the-cluster-only"])
def test_reconcile_wait_removes_a_deleted_cluster_and_its_deleted_databases(local_target, team, named):
    """The cluster waits for its databases to go: --wait reconciles them too instead of waiting on the cluster."""
    run("apply", "-f", str(EXAMPLES / "rec.yaml"))
    run("apply", "-f", str(EXAMPLES / "redb.yaml"), "--team", "payments")
    run("delete", "redb", "redb")
    run("delete", "rec", "rec")

    out, _ = run("reconcile", *named, "--wait", "--timeout", "60")

    assert sorted(out.strip().splitlines()) == ["cluster rec: gone", "database redb: gone"]
    assert not Cluster.objects.exists() and not Database.objects.exists()
