"""The Redis Cluster formation plan, without Redis: first formation, after a failover, after a pod
came back on empty storage."""
from dataplane.cluster import parse_nodes
from dataplane.formation import ADD_SLOTS, FORGET, MEET, REPLICATE, plan

HOSTS = ["db-0.h", "db-1.h", "db-2.h", "db-3.h"]


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
    steps = plan(HOSTS, fresh, 2)
    assert {s.action for s in steps} == {MEET} and len(steps) == 12
    met = views({h: [line(i, ("myself," if i == me else "") + "master") for i in "abcd"]
                 for h, me in zip(HOSTS, "abcd", strict=True)})
    assert [(s.action, s.host, s.argument) for s in plan(HOSTS, met, 2)] == [
        (ADD_SLOTS, "db-0.h", (0, 8191)), (ADD_SLOTS, "db-1.h", (8192, 16383))]


def test_empty_masters_replicate_the_owner_with_fewest_replicas():
    lines = {h: formed_lines(me) for h, me in zip(HOSTS, "abcd", strict=True)}
    assert plan(HOSTS, views(lines), 2) == []  # formed: nothing to do
    for host in HOSTS:  # c and d have no master yet
        lines[host] = [t.replace(" slave a ", " master - ").replace(" slave b ", " master - ")
                       .replace("myself,slave a", "myself,master -").replace("myself,slave b", "myself,master -")
                       for t in lines[host]]
    steps = plan(HOSTS, views(lines), 2)
    assert [(s.action, s.host, s.argument) for s in steps] == [(REPLICATE, "db-2.h", "a"), (REPLICATE, "db-3.h", "b")]


def test_a_pod_back_on_empty_storage_is_introduced_and_its_old_id_forgotten():
    lines = {h: formed_lines(me) for h, me in zip(HOSTS, "abcd", strict=True)}
    lines["db-3.h"] = [line("e", "myself,master")]  # new node id, knows nobody; "d" lingers elsewhere
    steps = plan(HOSTS, views(lines), 2)
    forgets = [(s.host, s.argument) for s in steps if s.action == FORGET]
    assert forgets == [("db-0.h", "d"), ("db-1.h", "d"), ("db-2.h", "d")]
    assert ("db-3.h", "db-0.h") in [(s.host, s.argument) for s in steps if s.action == MEET]
    assert not [s for s in steps if s.action in (ADD_SLOTS, REPLICATE)]  # slots stay where they are


def test_after_a_failover_no_slots_are_reassigned():
    lines = {h: formed_lines(me) for h, me in zip(HOSTS, "abcd", strict=True)}
    for host in HOSTS:  # c took over a's slots; a follows c
        lines[host] = [t.replace("master - 0 0 1 connected 0-8191", "slave c 0 0 1 connected")
                       .replace("slave a 0 0 1 connected", "master - 0 0 1 connected 0-8191") for t in lines[host]]
    assert plan(HOSTS, views(lines), 2) == []
