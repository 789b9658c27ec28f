"""Version names across engines (core/engines.py) and what the local target says it offers. Pure rules
plus one real look at the installed packages."""
from __future__ import annotations

from core.engines import default_version, describe, engine_of, version_key
from core.validation import downgrade_problem


def test_every_redis_version_sorts_before_every_valkey_version():
    names = ["valkey-9.1", "7.4", "valkey-8.1", "6.2", "7.4.1", "7.2"]
    assert sorted(names, key=version_key) == ["6.2", "7.2", "7.4", "7.4.1", "valkey-8.1", "valkey-9.1"]
    assert (engine_of("valkey-9.1"), engine_of("7.2")) == ("valkey", "redis")
    assert describe("valkey-9.1") == "Valkey 9.1" and describe("7.0") == "Redis 7.0"


def test_the_default_is_the_newest_redis_never_valkey():
    assert default_version(["7.0", "7.2", "valkey-9.1"]) == "7.2"
    assert default_version(["valkey-9.1"]) == "valkey-9.1"
    assert default_version([]) is None


def test_engine_changes_go_one_way():
    assert downgrade_problem("valkey-9.1", "7.0") is None
    assert downgrade_problem("valkey-9.1", "valkey-8.1") is None
    assert "Redis cannot load the data files Valkey writes" in downgrade_problem("7.4", "valkey-9.1")
    assert downgrade_problem("valkey-8.1", "valkey-9.1") == ("downgrading from valkey-9.1 to valkey-8.1 is not "
                                                             "supported; Redis versions only go up")


def test_the_local_target_says_why_valkey_is_not_offered(local_target, settings):
    from localtarget import versions
    from localtarget.driver import LocalDriver

    assert "Valkey is not offered: CONTROLPLANE_LOCAL_REDIS_VERSIONS lists the versions and names no Valkey" in \
        LocalDriver(local_target).probe().server_version
    settings.CONTROLPLANE_LOCAL_REDIS_VERSIONS = {}  # the default: what is installed, Valkey from its package
    assert "valkey-9.1" in versions.available_versions()
    assert LocalDriver(local_target).probe().server_version.endswith("Valkey 9.1")
