"""The pure parts of access/: the ACL rule grammar and the planner (no Redis, no database)."""
from __future__ import annotations

import pytest

from access.plan import AccessState, WantedUser, acl_lines, join_rules, sync_moves, wanted_users
from access.rules import rule_problems, tokens


@pytest.mark.parametrize("rule", ["+@read ~*", "-@all +get|set %R~cache:* &news", "+@read ~a:* (+set ~b:*)",
                                  "allkeys allchannels +@all -@dangerous", "+json.get ~doc:*"])
def test_valid_rules(rule):
    assert rule_problems(rule) == []


@pytest.mark.parametrize("rule, fragment", [
    ("+@read ~* >secret", "passwords"), ("on +@read", "passwords"), ("#" + "a" * 64, "passwords"),
    ("+@bogus", "unknown category"), ("~", "pattern is missing"), ("%X~a", "%R~"), ("(+get (~a))", "nested"),
    ("+get\n~*", "one line"), ("get", "not an ACL rule"), ("()", "empty selector"), (5, "must be a string"),
    ("+get " * 300, "at most"),
])
def test_invalid_rules(rule, fragment):
    assert any(fragment in problem for problem in rule_problems(rule)), rule_problems(rule)


def test_selectors_are_one_token():
    assert tokens("+@read  ~a:*  (+set ~b:*)") == ["+@read", "~a:*", "(+set ~b:*)"]


STATE = AccessState(
    acls={"read": "+@read ~app:*", "write": "+set ~jobs:*"},
    roles={"reader": {"scopes": [{"name": "orders"}], "acl": {"name": "read"}},
           "writer": {"scopes": [], "acl": {"name": "write"}}},
    bindings=[{"roleRef": {"name": "reader"}, "subjects": [{"name": "alice"}, {"name": "ghost"}]},
              {"roleRef": {"name": "writer"}, "subjects": [{"name": "alice"}]}],
    users={"alice": ("alice", "pw-a"), "bob": ("bob", "pw-b")},
)


def test_a_user_gets_the_acl_of_each_role_that_reaches_the_database():
    assert wanted_users(STATE, "orders", []) == {"alice": WantedUser("alice", "+@read ~app:*", "pw-a")}
    # rolesPermissions on the database grant the writer role's ACL too: a selector keeps its keys apart
    both = wanted_users(STATE, "orders", [{"type": "redis-enterprise", "role": "writer", "acl": "write"}])
    assert both["alice"].rules == "+@read ~app:* (+set ~jobs:*)"
    assert wanted_users(STATE, "other", []) == {}  # not in any scope: no users
    assert both["alice"].setuser_args()[:4] == ["alice", "reset", "on", ">pw-a"]


def test_join_rules_keeps_a_rule_with_selectors_as_is():
    assert join_rules(["+get", "+set (~x)"]) == "+get +set (~x)"


def test_sync_moves_defines_changed_deletes_unknown_and_switches_default():
    wanted = {"alice": WantedUser("alice", "+@read", "pw")}
    current = acl_lines(["user default on nopass ~* &* +@all", "user alice on #h ~* -@all", "user old on #x",
                         "user cp-sentinel on #y", "user cp-admin on #z"])
    moves = sync_moves(current, wanted, {"alice": "on #h2 -@all +@read"}, default_enabled=False)
    assert [user.username for user in moves.define] == ["alice"]
    assert moves.delete == ["cp-admin", "old"] and moves.default_on is False  # cp-sentinel is the control plane's
    settled = sync_moves(acl_lines(["user default off", "user alice on #h2 -@all +@read"]), wanted,
                         {"alice": "on #h2 -@all +@read"}, default_enabled=False)
    assert not settled


def test_cluster_clients_may_read_the_topology():
    rules = wanted_users(STATE, "orders", [], cluster_mode=True)["alice"].rules
    assert rules.startswith("+@read ~app:*") and "+cluster|slots" in rules and "+asking" in rules
