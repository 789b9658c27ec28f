"""Target setting `dataplane_nameserver`: the control plane resolves data-plane names through the cluster DNS
(here the pod runner's resolver on a loopback port), and gives the sentinels names, not addresses."""
from __future__ import annotations

import pytest
import redis

from kube.dataplane import DataPlane

from ..servers import free_port
from .podrunner.dns import ClusterDns

POD = "cache-0.cache-headless.redis.svc.cluster.local"


@pytest.fixture
def cluster_dns():
    dns = ClusterDns("127.0.0.1", free_port())
    dns.records = {POD: ["10.1.2.3"]}
    dns.start()
    yield dns
    dns.stop()


def test_names_resolve_through_the_nameserver_and_sentinels_get_names(cluster_dns):
    dataplane = DataPlane({"dataplane_nameserver": f"127.0.0.1:{cluster_dns.port}", "dataplane_timeout": 2})
    assert dataplane.enabled
    assert dataplane.address(POD, 6379) == ("10.1.2.3", 6379)
    assert dataplane.registered_address(POD, 6379) == (POD, 6379)
    cluster_dns.records = {POD: ["10.1.2.4"]}  # the pod was recreated with a new IP: seen at the next lookup
    assert dataplane.address(POD, 6379) == ("10.1.2.4", 6379)
    assert dataplane.address("10.9.9.9", 26379) == ("10.9.9.9", 26379)


def test_an_unknown_name_is_a_connection_error_naming_it(cluster_dns):
    dataplane = DataPlane({"dataplane_nameserver": f"127.0.0.1:{cluster_dns.port}"})
    with pytest.raises(redis.ConnectionError, match="cache-9.cache-headless"):
        dataplane.address("cache-9.cache-headless.redis.svc.cluster.local", 6379)


def test_the_address_map_wins_over_the_nameserver(cluster_dns):
    dataplane = DataPlane({"dataplane_nameserver": f"127.0.0.1:{cluster_dns.port}",
                           "dataplane_addresses": {f"{POD}:6379": "127.0.0.1:7000"}})
    assert dataplane.address(POD, 6379) == ("127.0.0.1", 7000)
    assert dataplane.registered_address(POD, 6379) == ("127.0.0.1", 7000)
