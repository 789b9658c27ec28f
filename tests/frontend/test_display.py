"""The display summary of a streamed payload: what a badge and progress line say."""
from frontend.display import summarize


def payload(kind="database", status=None, spec=None, generation=1, **extra):
    return {"kind": kind, "id": 7, "name": "orders", "generation": generation, "status": status or {},
            "spec": spec or {}, "deleting": False, **extra}


def test_a_new_object_shows_its_initial_state():
    assert summarize(payload("cluster"))["state"] == "PendingCreation"
    view = summarize(payload())
    assert (view["state"], view["tone"], view["symbol"], view["key"]) == ("pending", "busy", "◐", "database-7")


def test_running_is_ok_and_error_is_bad_with_the_reason():
    assert summarize(payload(status={"state": "active", "observedGeneration": 1}))["tone"] == "ok"
    view = summarize(payload(status={"state": "Error", "conditions": [
        {"type": "Ready", "status": "False", "message": "port 12001 is taken"}]}))
    assert view["tone"] == "bad" and view["symbol"] == "✕" and "port 12001 is taken" in view["progress"]


def test_version_prefers_what_was_observed():
    assert summarize(payload(spec={"redisVersion": "7.2"}))["version"] == "7.2"
    assert summarize(payload(status={"redisVersion": "7.0"}, spec={"redisVersion": "7.2"}))["version"] == "7.0"
    assert summarize(payload())["version"] == "target default"


def test_a_local_upgrade_counts_processes_on_the_new_version():
    status = {"state": "active-change-pending", "observedGeneration": 2, "processes": {
        "shard-0-0": {"version": "7.2"}, "shard-0-1": {"version": "7.0"}}}
    view = summarize(payload(status=status, spec={"redisVersion": "7.2"}, generation=2))
    assert (view["progressDone"], view["progressTotal"]) == (1, 2)
    assert "1 of 2 on Redis 7.2" in view["progress"]


def test_kubernetes_rollout_shows_ready_pods_and_the_step():
    status = {"state": "Initializing", "nodes": "1/3", "rollout": "restarting rec-2"}
    view = summarize(payload("cluster", status=status))
    assert (view["progressDone"], view["progressTotal"]) == (1, 3)
    assert "Rollout: restarting rec-2" in view["progress"] and "1 of 3 ready" in view["progress"]


def test_an_unobserved_generation_is_progress():
    view = summarize(payload(status={"state": "active", "observedGeneration": 1}, generation=2))
    assert view["progress"] == "Applying generation 2 (observed 1)"


def test_deletion_is_shown():
    view = summarize(payload(status={"state": "active"}, deleting=True))
    assert view["deleting"] and view["progress"] == "Deleting."


def test_a_reshard_shows_slots_and_keys_moved_as_a_progress_bar():
    from manifests.management.tables import shards_cell

    moving = {"shards": 5, "slotsMoved": 2048, "slotsTotal": 6553, "keysMoved": 25100, "keysTotal": 80581}
    view = summarize(payload(status={"state": "active", "observedGeneration": 1, "resharding": moving},
                             generation=2))
    assert (view["progressDone"], view["progressTotal"]) == (2048, 6553)
    assert "2048 of 6553 slots moved (25,100 of 80,581 keys) to reach 5 shards" in view["progress"]
    assert shards_cell({"shardCount": 5}, {"resharding": moving}) == \
        "5 (resharding: 2048/6553 slots, 25100/80581 keys)"
    assert shards_cell({"shardCount": 5}, {}) == "5"
    assert summarize(payload(status={"state": "active", "observedGeneration": 1}))["progressTotal"] is None
