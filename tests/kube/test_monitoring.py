"""ServiceMonitor and PrometheusRule: rendered where the Prometheus operator's CRDs are served (API discovery),
from the REDB `alertSettings`; nothing rendered, listed or failing where they are not."""
from __future__ import annotations

import pytest

from clusters.models import Cluster
from databases.models import Database
from databases.services import delete_database, update_database
from kube.render.database import render_database
from kube.render.inputs import DatabaseInputs
from kube.render.monitoring import monitoring_manifests
from specs.alerts import ALERT_KINDS
from targets.models import Target

from .test_lifecycle import active_database, run, running_cluster

ALERTS = {"bdb_size": {"enabled": True, "threshold": "80"},
          "bdb_high_latency": {"enabled": True, "threshold": 500},
          "bdb_low_throughput": {"enabled": False, "threshold": "1"}}


def operator_crd(kind: str, plural: str) -> dict:
    """The Prometheus operator's CRD, as its bundle installs it (the schema left open here)."""
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.monitoring.coreos.com"},
            "spec": {"group": "monitoring.coreos.com", "scope": "Namespaced",
                     "names": {"kind": kind, "plural": plural, "singular": kind.lower(), "listKind": f"{kind}List"},
                     "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                         "type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]}}


def install_prometheus_operator_crds(kube_env) -> None:
    from core.drivers import driver_for

    api = driver_for(kube_env.target).api
    api.apply(operator_crd("ServiceMonitor", "servicemonitors"))
    api.apply(operator_crd("PrometheusRule", "prometheusrules"))


@pytest.mark.django_db(transaction=True)
def test_with_the_crds_a_database_gets_a_service_monitor_and_rules_deleted_with_it(kube_env, team):
    install_prometheus_operator_crds(kube_env)
    cluster = running_cluster(kube_env)
    database = active_database(kube_env, cluster, team, alertSettings=ALERTS)
    monitor = kube_env.store.find("ServiceMonitor", "redis", "cache")
    assert monitor["spec"]["endpoints"][0]["port"] == "metrics"
    rule = kube_env.store.find("PrometheusRule", "redis", "cache")
    rules = {r["alert"]: r["expr"] for r in rule["spec"]["groups"][0]["rules"]}
    assert sorted(rules) == ["bdb_high_latency", "bdb_size"]  # the enabled ones
    assert rules["bdb_size"].endswith("> 80") and 'service="cache-headless"' in rules["bdb_size"]

    update_database(database, spec={**database.spec, "alertSettings": {}}, actor="test")
    run(database)
    assert kube_env.store.find("PrometheusRule", "redis", "cache") is None  # no alert enabled: no rule
    assert [m["metadata"]["name"] for m in kube_env.store.all_of("ServiceMonitor", "redis")] == ["cache"]

    delete_database(database, actor="test")
    gone = False
    for _ in range(5):
        gone = run(database).gone
        if gone:
            break
        kube_env.settle()
    assert gone and kube_env.store.all_of("ServiceMonitor", "redis") == []


@pytest.mark.django_db(transaction=True)
def test_without_the_crds_nothing_is_rendered_listed_or_failing(kube_env, team):
    cluster = running_cluster(kube_env)
    kube_env.emulator.reset_requests()
    database = active_database(kube_env, cluster, team, alertSettings=ALERTS)
    assert database.state == "active"
    paths = [r.path for r in kube_env.emulator.requests]
    assert "/apis/monitoring.coreos.com/v1" in paths  # asked once (discovery), answered 404
    assert not any("servicemonitors" in p or "prometheusrules" in p for p in paths)


def test_the_service_monitor_selects_the_headless_service_and_its_metrics_port():
    target = Target(name="k8s", kind=Target.KUBERNETES)
    cluster = Cluster(name="rec", namespace="redis", target=target, spec={"nodes": 3})
    database = Database(name="cache", cluster=cluster, spec={"memorySize": "1GB", "replication": True},
                        password="pw")
    services = [m for m in render_database(database) if m["kind"] == "Service"]
    monitor, rule = monitoring_manifests(DatabaseInputs.of(database), {k.setting: {"enabled": True, "threshold": 5}
                                                                       for k in ALERT_KINDS})
    wanted = monitor["spec"]["selector"]["matchLabels"]
    selected = [s for s in services if wanted.items() <= s["metadata"]["labels"].items()]
    scraped = [s["metadata"]["name"] for s in selected if any(p["name"] == "metrics" for p in s["spec"]["ports"])]
    assert scraped == [f"{database.name}-headless"]
    exprs = {r["alert"]: r["expr"] for r in rule["spec"]["groups"][0]["rules"]}
    assert set(exprs) == {k.setting for k in ALERT_KINDS}
    assert exprs["bdb_low_throughput"].endswith("< 5") and exprs["bdb_high_throughput"].endswith("> 5")
    assert 'role="master"' in exprs["bdb_high_throughput"]  # replicas replay writes: masters only


@pytest.mark.django_db(transaction=True)
def test_an_api_failing_a_pass_is_not_asked_for_discovery_once_per_database(kube_env, team, monkeypatch):
    from engine.sweep import reconcile_everything
    from kube import driver

    cluster = running_cluster(kube_env)
    for name in ("a", "b", "c"):
        active_database(kube_env, cluster, team, name=name)
    monkeypatch.setattr(driver, "MONITORING_RECHECK_SECONDS", -1)  # discovery asked at every reconcile
    kube_env.emulator.reset_requests()
    kube_env.inject(status=500, count=1000)
    counts = reconcile_everything()
    assert counts["errors"] == 4
    assert len(kube_env.emulator.requests) == 1
