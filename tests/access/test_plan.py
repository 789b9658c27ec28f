"""The pure parts of access/: the ACL rule grammar and the planner (no Redis, no database)."""
from __future__ import annotations

import pytest

from access.apply import describe
from access.plan import (
    AccessState,
    WantedUser,
    acl_lines,
    default_is_on,
    default_user,
    join_rules,
    sync_moves,
    wanted_users,
)
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


def test_turning_the_default_user_on_is_one_definition_with_its_password_said_without_it():
    """Kubernetes (kube/dataplane.py sync_users): the default user is a wanted user while it is on, so a pod that has
    it off gets `ACL SETUSER default reset on >password ~* &* +@all` in one command, never on without a password."""
    wanted = {"default": default_user("the-database-password")}
    current = acl_lines(["user default off #abc ~* &* +@all"])
    assert not default_is_on(current) and default_is_on(acl_lines(["user default on nopass ~* &* +@all"]))
    moves = sync_moves(current, wanted, {"default": "on #abc ~* &* +@all"}, default_enabled=False)
    assert moves.define == [wanted["default"]] and moves.default_on is None and moves.delete == []
    assert moves.define[0].setuser_args() == ["default", "reset", "on", ">the-database-password", "~*", "&*", "+@all"]
    assert describe(moves) == "default user on"  # never the password
    already = sync_moves(acl_lines(["user default on #abc ~* &* +@all"]), wanted,
                         {"default": "on #abc ~* &* +@all"}, default_enabled=True)
    assert not already
