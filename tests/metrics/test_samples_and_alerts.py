"""The pure parts: a sample from INFO, and alerts from alertSettings against it."""
from __future__ import annotations

from metrics.alerts import evaluate, threshold_of, transitions
from metrics.samples import sample_from_info

INFO = {
    "instantaneous_ops_per_sec": 1200, "used_memory": 60 * 2**20, "maxmemory": 100 * 2**20,
    "connected_clients": 7, "keyspace_hits": 90, "keyspace_misses": 10,
    "db0": {"keys": 40, "expires": 0}, "db3": {"keys": 2, "expires": 0},
    "slave0": {"ip": "127.0.0.1", "port": 17001, "state": "online", "offset": 10, "lag": 0},
    "slave1": {"ip": "127.0.0.1", "port": 17002, "state": "online", "offset": 5, "lag": 3},
    "cmdstat_get": {"calls": 100, "usec": 500}, "cmdstat_set": {"calls": 100, "usec": 1500},
}


def test_a_sample_reads_the_charted_figures_from_info():
    sample = sample_from_info(INFO, t=1000.0)
    assert (sample.ops_per_sec, sample.clients, sample.keys) == (1200.0, 7, 42)
    assert sample.memory_percent == 60.0
    assert sample.hit_ratio == 0.9
    assert sample.replication_lag == 3.0
    assert sample.latency_usec == 10.0


def test_rates_are_over_the_interval_since_the_previous_sample_and_survive_a_restart():
    first = sample_from_info(INFO, t=1000.0)
    later = {**INFO, "keyspace_hits": 100, "keyspace_misses": 40,
             "cmdstat_get": {"calls": 300, "usec": 700}, "cmdstat_set": {"calls": 100, "usec": 1500}}
    second = sample_from_info(later, t=1015.0, previous=first)
    assert second.hit_ratio == 10 / 40
    assert second.latency_usec == 1.0
    restarted = sample_from_info({"keyspace_hits": 3, "keyspace_misses": 1}, t=1030.0, previous=second)
    assert restarted.hit_ratio == 0.75 and restarted.latency_usec is None and restarted.replication_lag is None


def test_thresholds_follow_the_operator_shape_and_ignore_what_is_off_or_unreadable():
    assert threshold_of({"enabled": True, "threshold": "80"}) == 80.0
    assert threshold_of({"enabled": True, "threshold": 2.5}) == 2.5
    assert threshold_of({"enabled": False, "threshold": "80"}) is None
    assert threshold_of({"enabled": True, "threshold": "lots"}) is None
    assert threshold_of({"enabled": True, "threshold": "nan"}) is None
    assert threshold_of({"enabled": True, "threshold": -1}) is None
    assert threshold_of("80") is None


def test_alerts_fire_above_memory_throughput_latency_lag_and_below_low_throughput():
    sample = sample_from_info(INFO, t=1000.0)
    on = {"enabled": True}
    settings = {"bdb_size": {**on, "threshold": "50"}, "bdb_high_throughput": {**on, "threshold": 1000},
                "bdb_high_latency": {**on, "threshold": 5}, "bdb_replica_src_high_syncer_lag": {**on, "threshold": 2},
                "bdb_low_throughput": {**on, "threshold": 2000}}
    assert set(evaluate(settings, sample)) == set(settings)
    quiet = {"bdb_size": {**on, "threshold": "70"}, "bdb_high_throughput": {**on, "threshold": 5000},
             "bdb_low_throughput": {**on, "threshold": 10}, "bdb_high_latency": {"enabled": False, "threshold": 1}}
    assert evaluate(quiet, sample) == {}
    assert evaluate(None, sample) == {}
    assert "60.0 % of the memory limit" in evaluate(settings, sample)["bdb_size"].message


def test_no_memory_limit_means_no_memory_alert():
    sample = sample_from_info({**INFO, "maxmemory": 0}, t=1.0)
    assert evaluate({"bdb_size": {"enabled": True, "threshold": 1}}, sample) == {}


def test_transitions_name_what_started_and_what_cleared():
    sample = sample_from_info(INFO, t=1000.0)
    now = evaluate({"bdb_size": {"enabled": True, "threshold": 50}}, sample)
    fired, cleared = transitions({"bdb_high_latency"}, now)
    assert [a.setting for a in fired] == ["bdb_size"] and cleared == ["bdb_high_latency"]
    assert transitions({"bdb_size"}, now) == ([], [])
