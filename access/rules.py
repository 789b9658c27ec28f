"""The Redis ACL rule grammar a RedisEnterpriseACL's `spec.acl` may use, checked by parsing (no server needed).

A rule grants commands, keys and channels: `+@read ~app:*`, `-@all +get|set %R~cache:* &news`, selectors in
parentheses (`+@read ~a:* (+set ~b:*)`). Rules about the user itself (passwords, on/off, reset) are the
control plane's business, so an ACL may not carry them: a password in a spec would be a secret in a spec.
"""
from __future__ import annotations

import re

# The command categories of Redis 7 (`ACL CAT`).
CATEGORIES = frozenset({
    "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap", "hyperloglog", "geo",
    "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous", "connection", "transaction",
    "scripting", "all", "search", "json", "timeseries", "bloom", "cuckoo", "topk", "cms", "tdigest",
})
# Words that stand alone.
KEYWORDS = frozenset({"allkeys", "resetkeys", "allchannels", "resetchannels", "allcommands", "nocommands",
                      "clearselectors", "sanitize-payload", "skip-sanitize-payload"})
# Words about the user, not its permissions: the control plane sets them.
USER_WORDS = frozenset({"on", "off", "nopass", "resetpass", "reset"})
COMMAND = re.compile(r"^[a-z][a-z0-9_.\-]*(\|[a-z0-9_\-]+)?$")
PATTERN = re.compile(r"^\S+$")
MAX_RULE_LENGTH = 4096
MAX_TOKENS = 256


def tokens(rule: str) -> list[str]:
    """The words of a rule; a selector `( ... )` is one word."""
    words, depth, current = [], 0, ""
    for char in rule:
        if char == "(":
            if depth:
                raise ValueError("selectors cannot be nested")
            depth, current = 1, current + char
        elif char == ")":
            if not depth:
                raise ValueError("')' without '('")
            depth, current = 0, current + char
        elif char.isspace() and not depth:
            if current:
                words.append(current)
            current = ""
        else:
            current += char
    if depth:
        raise ValueError("'(' without ')'")
    if current:
        words.append(current)
    return words


def word_problem(word: str) -> str | None:
    """Why one word of a rule is not a permission rule, or None."""
    lowered = word.lower()
    if lowered in KEYWORDS:
        return None
    if lowered in USER_WORDS or word[:1] in (">", "<", "#", "!"):
        return f"{word[:1] if word[:1] in '><#!' else word!r}: passwords and on/off are not part of an ACL " \
               "(the control plane manages the user)"
    if word[:1] in "+-":
        name = word[1:]
        if name.startswith("@"):
            return None if name[1:].lower() in CATEGORIES else f"{word!r}: unknown category " \
                f"(one of {', '.join(sorted(CATEGORIES))})"
        return None if COMMAND.match(name.lower()) else f"{word!r}: not a command name"
    if word.startswith("~") or word.startswith("&"):
        return None if len(word) > 1 and PATTERN.match(word[1:]) else f"{word!r}: a pattern is missing"
    match = re.match(r"^%(R|W|RW)~(\S+)$", word, re.IGNORECASE)
    if word.startswith("%"):
        return None if match else f"{word!r}: key permissions are written %R~, %W~ or %RW~ and a pattern"
    return f"{word!r}: not an ACL rule (+command, -command, +@category, ~keys, %R~keys, &channels, ...)"


def rule_problems(rule: object) -> list[str]:
    """Everything wrong with an ACL rule, or []."""
    if not isinstance(rule, str):
        return [f"must be a string, not {type(rule).__name__}"]
    if len(rule) > MAX_RULE_LENGTH:
        return [f"is {len(rule)} characters; at most {MAX_RULE_LENGTH}"]
    if any(ord(char) < 32 and not char.isspace() for char in rule) or "\n" in rule or "\r" in rule:
        return ["must be one line of printable characters"]
    try:
        words = tokens(rule)
    except ValueError as exc:
        return [str(exc)]
    if not words:
        return ["is empty: give at least one rule, e.g. +@read ~*"]
    if len(words) > MAX_TOKENS:
        return [f"has {len(words)} rules; at most {MAX_TOKENS}"]
    problems = []
    for word in words:
        inner = tokens(word[1:-1]) if word.startswith("(") else [word]
        if word.startswith("(") and not inner:
            problems.append("an empty selector ()")
        problems += [problem for part in inner if (problem := word_problem(part))]
    return problems
