"""Pure topology decisions: who comes back as master, and the order of a rolling upgrade."""
from localtarget.roles import ProcessView, start_plan
from localtarget.rollout import RESTART_MASTER, RESTART_REPLICA, SWITCHOVER, WAIT_SYNC, Member, next_step


def view(name, port, alive, role=None, data=False, mtime=0.0):
    return ProcessView(name=name, port=port, alive=alive, role=role, has_data=data, data_mtime=mtime)


def test_a_dead_process_comes_back_as_replica_of_the_live_master():
    plan = start_plan([view("a", 1, False, data=True), view("b", 2, True, "master")], sentinel_master_port=2)
    assert plan == {"a": 2}


def test_an_old_master_never_restarts_as_master_while_its_replica_lives():
    # the sentinels have not failed over yet and still name the dead process: it must not come back as master
    # (nor as a replica of its own replica: that would be a loop); the sentinels promote first
    plan = start_plan([view("a", 1, False), view("b", 2, True, "slave", data=True)], sentinel_master_port=1)
    assert plan == {}


def test_with_the_whole_shard_down_the_sentinels_choice_with_data_is_master():
    plan = start_plan([view("a", 1, False, data=True, mtime=5), view("b", 2, False, data=True, mtime=9)],
                      sentinel_master_port=1)
    assert plan == {"a": None, "b": 1}


def test_an_empty_data_directory_never_becomes_master_over_data():
    plan = start_plan([view("a", 1, False, data=False), view("b", 2, False, data=True)], sentinel_master_port=1)
    assert plan == {"a": 2, "b": None}


def test_nothing_restarts_while_the_sentinels_still_name_the_dead_master():
    # a replica was just promoted (SLAVEOF NO ONE) but the sentinels have not switched yet
    plan = start_plan([view("a", 1, False, data=True), view("b", 2, True, "master")], sentinel_master_port=1)
    assert plan == {}


def test_nothing_to_start_when_everything_runs():
    assert start_plan([view("a", 1, True, "master")], None) == {}


def test_upgrade_restarts_replicas_first_then_switches_over():
    members = [Member("a", "master", "7.0"), Member("b", "slave", "7.0")]
    assert next_step(members, "7.2").action == RESTART_REPLICA
    members = [Member("a", "master", "7.0"), Member("b", "slave", "7.2", in_sync=False)]
    assert next_step(members, "7.2").action == WAIT_SYNC
    members = [Member("a", "master", "7.0"), Member("b", "slave", "7.2")]
    step = next_step(members, "7.2")
    assert (step.action, step.name) == (SWITCHOVER, "a")
    members = [Member("a", "slave", "7.0"), Member("b", "master", "7.2")]
    assert (next_step(members, "7.2").action, next_step(members, "7.2").name) == (RESTART_REPLICA, "a")
    assert next_step([Member("a", "slave", "7.2"), Member("b", "master", "7.2")], "7.2") is None


def test_an_old_replica_that_cannot_sync_from_the_new_engine_is_restarted_not_waited_on():
    # after the switchover to Valkey, the old Redis 7.0 master is a replica that never gets in sync
    members = [Member("a", "slave", "7.0", in_sync=False), Member("b", "master", "valkey-9.1")]
    assert (next_step(members, "valkey-9.1").action, next_step(members, "valkey-9.1").name) == (RESTART_REPLICA, "a")
    # a replica already on the new version is still waited on before anything else moves
    members = [Member("a", "slave", "valkey-9.1", in_sync=False), Member("b", "slave", "7.0"),
               Member("c", "master", "7.0")]
    assert next_step(members, "valkey-9.1").action == WAIT_SYNC


def test_upgrade_without_replica_restarts_the_master_in_place():
    assert next_step([Member("a", "master", "7.0")], "7.2").action == RESTART_MASTER


def test_slots_are_split_evenly_and_cover_everything():
    from dataplane.slots import SLOTS, even_ranges

    ranges = even_ranges(3)
    assert ranges[0][0] == 0 and ranges[-1][1] == SLOTS - 1
    assert sum(last - first + 1 for first, last in ranges) == SLOTS
    assert all(ranges[i][1] + 1 == ranges[i + 1][0] for i in range(2))


def test_resharding_moves_only_what_evens_the_distribution():
    from dataplane.slots import even_ranges, plan_moves

    owned = {i: list(range(a, b + 1)) for i, (a, b) in enumerate(even_ranges(2))}
    moves = plan_moves(owned, 3)
    assert {m.target for m in moves} == {2} and sum(len(m.slots) for m in moves) == 5461
    after = {i: set(s) for i, s in owned.items()} | {2: set()}
    for m in moves:
        after[m.source] -= set(m.slots)
        after[m.target] |= set(m.slots)
    assert sorted(len(s) for s in after.values()) == [5461, 5461, 5462]

    shrink = plan_moves({i: list(range(a, b + 1)) for i, (a, b) in enumerate(even_ranges(3))}, 2)
    assert {m.source for m in shrink} == {2} and sum(len(m.slots) for m in shrink) == 5461
    assert plan_moves(owned, 2) == []
