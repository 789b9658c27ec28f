"""Which ACL users a database should have: a pure function of the access objects and the REDB's fields.

A user gets data access to a database through a role binding whose role either names the database in its
`scopes`, or is listed with an ACL in the REDB's `rolesPermissions`. The ACL rules of every grant are joined:
the first as the user's own permissions, the others as selectors `( ... )`, so each grant keeps its own
keys (Redis 7 selectors). `sync_moves` diffs the wanted users against a server's `ACL LIST`.
"""
from __future__ import annotations

from dataclasses import dataclass

from .rules import tokens

ADMIN_USER = "cp-admin"  # the control plane's own user where the default user is off
ADMIN_RULES = "~* &* +@all"
RESERVED = ("default", ADMIN_USER)
# Users named cp-* belong to the control plane (e.g. for its sentinels): never removed as unknown.
CONTROL_PLANE_PREFIX = "cp-"
# What a Redis Cluster client needs besides its data commands: the topology and the redirects.
CLUSTER_CLIENT_RULES = ("+cluster|slots +cluster|shards +cluster|nodes +cluster|myid +readonly +readwrite +asking "
                        "+command")


@dataclass(frozen=True)
class AccessState:
    """Every access object of one namespace, by name: ACL rules, role specs, bindings, users."""
    acls: dict[str, str]
    roles: dict[str, dict]
    bindings: list[dict]
    users: dict[str, tuple[str, str]]  # object name -> (username, password)


@dataclass(frozen=True)
class WantedUser:
    username: str
    rules: str  # the permissions, never the password
    password: str

    def setuser_args(self) -> list[str]:
        """`ACL SETUSER` arguments: the password goes as `>pw` over the connection, nowhere else."""
        return [self.username, "reset", "on", f">{self.password}", *tokens(self.rules)]


def role_grants(state: AccessState, database: str, roles_permissions: list[dict]) -> dict[str, list[str]]:
    """role name -> the ACL rules it grants on `database`."""
    grants: dict[str, list[str]] = {}
    for name, role in state.roles.items():
        scoped = any((scope or {}).get("name") == database for scope in role.get("scopes") or [])
        acl = (role.get("acl") or {}).get("name")
        if scoped and acl in state.acls:
            grants.setdefault(name, []).append(state.acls[acl])
    for permission in roles_permissions:
        if permission.get("type") == "redis-enterprise" and permission.get("role") in state.roles \
                and permission.get("acl") in state.acls:
            grants.setdefault(permission["role"], []).append(state.acls[permission["acl"]])
    return grants


def wanted_users(state: AccessState, database: str, roles_permissions: list[dict], *,
                 cluster_mode: bool = False) -> dict[str, WantedUser]:
    """username -> what the user must be on every shard process of `database`; on a Redis Cluster each user
    may also read the topology and follow redirects (CLUSTER_CLIENT_RULES)."""
    grants = role_grants(state, database, roles_permissions)
    rules_of: dict[str, list[str]] = {}
    for binding in state.bindings:
        role = (binding.get("roleRef") or {}).get("name")
        for subject in binding.get("subjects") or []:
            user = (subject or {}).get("name")
            if role in grants and user in state.users:
                rules_of.setdefault(user, [])
                rules_of[user] += [rule for rule in grants[role] if rule not in rules_of[user]]
    wanted = {}
    for user, rules in rules_of.items():
        username, password = state.users[user]
        joined = join_rules(rules)
        wanted[username] = WantedUser(username, f"{joined} {CLUSTER_CLIENT_RULES}" if cluster_mode else joined,
                                      password)
    return wanted


def join_rules(rules: list[str]) -> str:
    """The first rule as is, the others as selectors (a rule that has selectors already is appended)."""
    first, *others = rules
    return " ".join([first, *(rule if "(" in rule else f"({rule})" for rule in others)])


def admin_user(password: str) -> WantedUser:
    return WantedUser(ADMIN_USER, ADMIN_RULES, password)


def default_user(password: str) -> WantedUser:
    """The default user as it is when on: every command and key, the database password."""
    return WantedUser("default", ADMIN_RULES, password)


def default_is_on(current: dict[str, str]) -> bool:
    """Whether the default user is on, from acl_lines of a server."""
    return current.get("default", "").split(" ", 1)[0] == "on"


@dataclass(frozen=True)
class Moves:
    """What to change on one process: users to (re)define, users to delete, the default user on/off."""
    define: list[WantedUser]
    delete: list[str]
    default_on: bool | None  # None: leave as it is

    def __bool__(self) -> bool:
        return bool(self.define or self.delete or self.default_on is not None)


def acl_lines(acl_list: list[str]) -> dict[str, str]:
    """`ACL LIST` output by username: `user NAME rest...` -> {NAME: rest}."""
    lines = {}
    for line in acl_list:
        text = line.decode() if isinstance(line, bytes) else str(line)
        _, name, rest = (text.split(" ", 2) + [""])[:3]
        lines[name] = rest
    return lines


def sync_moves(current: dict[str, str], wanted: dict[str, WantedUser], canonical: dict[str, str], *,
               default_enabled: bool) -> Moves:
    """The moves from `current` (acl_lines of the server) to `wanted`; `canonical` is how the server writes
    each wanted user in ACL LIST (found with a probe), so equal users are left alone."""
    define = [user for name, user in wanted.items() if current.get(name) != canonical.get(name)]
    delete = sorted(name for name in current if name not in wanted and name != "default"
                    and (name == ADMIN_USER or not name.startswith(CONTROL_PLANE_PREFIX)))
    is_on = default_is_on(current)
    default_on = None if is_on == default_enabled else default_enabled
    return Moves(define=define, delete=delete, default_on=default_on)
