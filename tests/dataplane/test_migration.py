"""The slot-migration planners, without Redis: batches, ranges, the target's take-over commands, and the moves a
killed worker left open."""
from dataplane.cluster import myself, parse_nodes
from dataplane.migration import OpenMove, batches, open_moves, ranges, take_over_commands

SOURCE = "a" * 40
TARGET = "b" * 40


def test_batches_cut_sorted_slots_without_losing_or_repeating_one():
    cut = batches([9, 1, 2, 3, 3, 8, 7], size=3)
    assert cut == [(1, 2, 3), (7, 8, 9)]
    assert batches(range(10), size=4) == [(0, 1, 2, 3), (4, 5, 6, 7), (8, 9)]
    assert batches([], size=4) == []
    every = [slot for batch in batches(range(16384)) for slot in batch]
    assert every == list(range(16384))


def test_ranges_are_the_contiguous_runs():
    assert ranges([7, 1, 2, 3]) == [(1, 3), (7, 7)]
    assert ranges(range(100, 200)) == [(100, 199)]
    assert ranges([]) == []


def test_the_target_takes_a_batch_over_with_one_epoch_bump_and_one_importing_handover():
    """BUMPEPOCH first (its claim outranks the source's before any of it is gossiped), every slot but the
    last STABLE then NODE (no broadcast each), the last NODE while IMPORTING (one broadcast for the batch)."""
    commands = take_over_commands((5, 6, 7), TARGET)
    assert commands == [("CLUSTER", "BUMPEPOCH"),
                        ("CLUSTER", "SETSLOT", 5, "STABLE"), ("CLUSTER", "SETSLOT", 5, "NODE", TARGET),
                        ("CLUSTER", "SETSLOT", 6, "STABLE"), ("CLUSTER", "SETSLOT", 6, "NODE", TARGET),
                        ("CLUSTER", "SETSLOT", 7, "NODE", TARGET)]
    assert take_over_commands((9,), TARGET) == [("CLUSTER", "BUMPEPOCH"), ("CLUSTER", "SETSLOT", 9, "NODE", TARGET)]
    assert take_over_commands((), TARGET) == []
    every = take_over_commands(tuple(range(1024)), TARGET)
    assert [c[2] for c in every if c[-1] == TARGET] == list(range(1024))  # every slot handed over, once
    assert sum(1 for c in every if c[-1] == "STABLE") == 1023


def test_open_slots_are_read_from_each_master_s_own_line():
    source_view = f"{SOURCE} 127.0.0.1:7001@17001 myself,master - 0 0 1 connected 0-99 [100->-{TARGET}] " \
                  f"[101->-{TARGET}]\n{TARGET} 127.0.0.1:7002@17002 master - 0 0 2 connected 200-300\n"
    target_view = f"{TARGET} 127.0.0.1:7002@17002 myself,master - 0 0 2 connected 200-300 [100-<-{SOURCE}] " \
                  f"[102-<-{SOURCE}]\n"
    source, target = myself(parse_nodes(source_view)), myself(parse_nodes(target_view))
    assert source.slots == list(range(100)) and source.migrating == {100: TARGET, 101: TARGET}
    assert target.importing == {100: SOURCE, 102: SOURCE} and target.migrating == {}
    # 101: the target was never told (killed between the two pipelines); 102: the source was never told
    assert open_moves([source, target]) == [OpenMove(SOURCE, TARGET, (100, 101, 102))]
    assert open_moves([target]) == [OpenMove(SOURCE, TARGET, (100, 102))]
    assert open_moves([myself(parse_nodes(f"{TARGET} 127.0.0.1:7002@17002 myself,master - 0 0 2 connected 1-5"))]) \
        == []
