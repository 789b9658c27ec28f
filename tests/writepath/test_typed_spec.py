"""The stored spec is parsed once per reconcile: `typed_spec` is cached on the row until the spec changes."""
from core.quantity import parse_memory


def test_typed_spec_is_cached_and_follows_changes(cluster):
    from databases.services import create_database

    database = create_database(cluster=cluster, name="cache", spec={"memorySize": "100MB"}, team=None,
                               actor="t").obj
    first = database.typed_spec
    assert database.typed_spec is first and first.memory_bytes == parse_memory("100MB")
    database.spec["memorySize"] = "200MB"  # changed in place
    assert database.typed_spec is not first and database.typed_spec.memory_bytes == parse_memory("200MB")
    database.spec = {"memorySize": "300MB"}
    assert database.typed_spec.memory_bytes == parse_memory("300MB")
    assert cluster.typed_spec.nodes == cluster.spec["nodes"]
