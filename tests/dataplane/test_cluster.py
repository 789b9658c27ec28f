"""The data-plane library's readers, without Redis: CLUSTER NODES and CLUSTER INFO as both targets see them."""
from dataplane.cluster import MASTER, myself, parse_info, parse_nodes, settled
from dataplane.slots import SLOTS, even_ranges

NODES = """\
replica4 127.0.0.1:30004@31004,hostname4 slave master1 0 1426238317239 4 connected
master2 127.0.0.1:30002@31002 master - 0 1426238316232 2 connected 5461-10922
master3 127.0.0.1:30003@31003 master - 0 1426238318243 3 connected 10923-16383
master1 127.0.0.1:30001@31001 myself,master - 0 0 1 connected 0-5460 [5461->-master2]
gone5 :0@0 master,fail,noaddr - 1426238316232 1426238316232 5 disconnected
"""


def test_cluster_nodes_are_parsed_into_nodes():
    nodes = parse_nodes(NODES)
    assert [n.port for n in nodes] == [30004, 30002, 30003, 30001, 0]
    replica, second, third, me, gone = nodes
    assert replica.master_id == me.id and not replica.is_master and replica.host == "127.0.0.1"
    assert second.is_master and second.slots == list(range(5461, 10923))
    assert me.slots == list(range(0, 5461))  # the migrating marker is not a slot
    assert gone.failed and not me.failed
    assert myself(nodes) is me and MASTER in me.flags
    assert myself(parse_nodes("")) is None


def test_cluster_info_from_text_or_a_dict():
    text = "cluster_state:ok\r\ncluster_slots_assigned:16384\r\ncluster_known_nodes:6\r\n"
    info = parse_info(text)
    assert info["cluster_state"] == "ok" and parse_info({"cluster_known_nodes": 6}) == {"cluster_known_nodes": "6"}
    assert settled(info, 6) and not settled(info, 7) and not settled({"cluster_state": "fail"}, 6)


def test_even_ranges_cover_every_slot_once():
    ranges = even_ranges(3)
    assert ranges[0][0] == 0 and ranges[-1][1] == SLOTS - 1
    assert all(b[0] == a[1] + 1 for a, b in zip(ranges, ranges[1:], strict=False))
