"""The Redis Cluster formation plan, without Redis: first formation, after a failover, after a pod
came back on empty storage."""
from dataplane.cluster import parse_nodes
from dataplane.formation import ADD_SLOTS, FORGET, MEET, REPLICATE, plan

HOSTS = ["db-0.h", "db-1.h", "db-2.h", "db-3.h"]
SHARDS = [["db-0.h", "db-2.h"], ["db-1.h", "db-3.h"]]  # a shard: its first pod, then its replica


def line(node_id: str, flags: str, master: str = "-", slots: str = "") -> str:
    return f"{node_id} 10.0.0.1:6379@16379 {flags} {master} 0 0 1 connected {slots}".strip()


def views(lines: dict[str, list[str]]) -> dict:
    return {host: parse_nodes("\n".join(text)) for host, text in lines.items()}


def formed_lines(me: str) -> list[str]:
    nodes = {"a": line("a", "master", slots="0-8191"), "b": line("b", "master", slots="8192-16383"),
             "c": line("c", "slave", "a"), "d": line("d", "slave", "b")}
    return [text.replace(f" {text.split()[2]} ", f" myself,{text.split()[2]} ") if node == me else text
            for node, text in nodes.items()]


def test_fresh_nodes_meet_then_take_even_ranges_then_replicate():
    fresh = views({h: [line(i, "myself,master")] for h, i in zip(HOSTS, "abcd", strict=True)})
    steps = plan(SHARDS, fresh)
    assert {s.action for s in steps} == {MEET} and len(steps) == 12
    met = views({h: [line(i, ("myself," if i == me else "") + "master") for i in "abcd"]
                 for h, me in zip(HOSTS, "abcd", strict=True)})
    assert [(s.action, s.host, s.argument) for s in plan(SHARDS, met)] == [
        (ADD_SLOTS, "db-0.h", (0, 8191)), (ADD_SLOTS, "db-1.h", (8192, 16383))]


def test_empty_masters_replicate_their_own_shards_master():
    lines = {h: formed_lines(me) for h, me in zip(HOSTS, "abcd", strict=True)}
    assert plan(SHARDS, views(lines)) == []  # formed: nothing to do
    for host in HOSTS:  # c and d have no master yet
        lines[host] = [t.replace(" slave a ", " master - ").replace(" slave b ", " master - ")
                       .replace("myself,slave a", "myself,master -").replace("myself,slave b", "myself,master -")
                       for t in lines[host]]
    steps = plan(SHARDS, views(lines))
    assert [(s.action, s.host, s.argument) for s in steps] == [(REPLICATE, "db-2.h", "a"), (REPLICATE, "db-3.h", "b")]


def test_a_pod_back_on_empty_storage_is_introduced_and_its_old_id_forgotten():
    lines = {h: formed_lines(me) for h, me in zip(HOSTS, "abcd", strict=True)}
    lines["db-3.h"] = [line("e", "myself,master")]  # new node id, knows nobody; "d" lingers elsewhere
    steps = plan(SHARDS, views(lines))
    forgets = [(s.host, s.argument) for s in steps if s.action == FORGET]
    assert sorted(forgets) == [("db-0.h", "d"), ("db-1.h", "d"), ("db-2.h", "d")]
    assert ("db-3.h", "db-0.h") in [(s.host, s.argument) for s in steps if s.action == MEET]
    assert not [s for s in steps if s.action in (ADD_SLOTS, REPLICATE)]  # slots stay where they are


def test_after_a_failover_no_slots_are_reassigned():
    lines = {h: formed_lines(me) for h, me in zip(HOSTS, "abcd", strict=True)}
    for host in HOSTS:  # c took over a's slots; a follows c
        lines[host] = [t.replace("master - 0 0 1 connected 0-8191", "slave c 0 0 1 connected")
                       .replace("slave a 0 0 1 connected", "master - 0 0 1 connected 0-8191") for t in lines[host]]
    assert plan(SHARDS, views(lines)) == []


def test_a_failed_master_that_still_owns_slots_is_not_forgotten_before_its_replica_took_over():
    lines = {h: formed_lines(me) for h, me in zip(HOSTS, "abcd", strict=True)}
    del lines["db-0.h"]  # pod db-0 was replaced: node "a" (slots 0-8191) answers nowhere; "e" is new
    lines["db-0.h"] = [line("e", "myself,master")]
    steps = plan(SHARDS, views(lines))
    assert not [s for s in steps if s.action == FORGET and s.argument == "a"]
    assert [s for s in steps if s.action == MEET]


def test_new_shards_pods_follow_their_own_first_pod_and_retiring_pods_are_left_alone():
    # Slots all owned by a and b; a new shard (pods e, f: masters without slots) and a retiring pod g that
    # became a replica of b when it gave its last slot away.
    nodes = {"a": line("a", "master", slots="0-8191"), "b": line("b", "master", slots="8192-16383"),
             "c": line("c", "slave", "a"), "d": line("d", "master"),
             "e": line("e", "master"), "f": line("f", "master"), "g": line("g", "slave", "b")}
    hosts = dict(zip(["db-0.h", "db-1.h", "db-2.h", "db-3.h", "new-0.h", "new-1.h", "old-0.h"], "abcdefg",
                     strict=True))
    lines = {h: [t.replace(f" {t.split()[2]} ", f" myself,{t.split()[2]} ") if n == me else t
                 for n, t in nodes.items()] for h, me in hosts.items()}
    steps = plan([*SHARDS, ["new-0.h", "new-1.h"]], views(lines), retiring=["old-0.h"])
    assert [(s.action, s.host, s.argument) for s in steps] == [(REPLICATE, "db-3.h", "b"),
                                                                (REPLICATE, "new-1.h", "e")]


def test_while_a_failed_masters_replica_waits_for_promotion_nothing_of_its_shard_is_re_pointed():
    """Pod db-1 (master "b") was replaced empty ("e"); its replica d still follows b, which Redis Cluster
    is about to fail over: making d follow the empty e would lose the shard's data."""
    nodes = {"a": line("a", "master", slots="0-8191"), "b": line("b", "master,fail", slots="8192-16383"),
             "c": line("c", "slave", "a"), "d": line("d", "slave", "b"), "e": line("e", "master")}
    hosts = dict(zip(HOSTS, "aecd", strict=True))
    lines = {h: [t.replace(f" {t.split()[2]} ", f" myself,{t.split()[2]} ") if n == me else t
                 for n, t in nodes.items()] for h, me in hosts.items()}
    assert plan(SHARDS, views(lines)) == []
    # Redis Cluster promoted d: now e becomes its replica.
    nodes["d"], nodes["b"] = line("d", "master", slots="8192-16383"), line("b", "master,fail")
    lines = {h: [t.replace(f" {t.split()[2]} ", f" myself,{t.split()[2]} ") if n == me else t
                 for n, t in nodes.items()] for h, me in hosts.items()}
    assert {(s.action, s.host, s.argument) for s in plan(SHARDS, views(lines))} == {
        (FORGET, h, "b") for h in HOSTS}
    del nodes["b"]
    lines = {h: [t.replace(f" {t.split()[2]} ", f" myself,{t.split()[2]} ") if n == me else t
                 for n, t in nodes.items()] for h, me in hosts.items()}
    assert [(s.action, s.host, s.argument) for s in plan(SHARDS, views(lines))] == [(REPLICATE, "db-1.h", "d")]
