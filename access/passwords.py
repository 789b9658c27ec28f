"""Where a RedisEnterpriseUser's password comes from: the Secret its `passwordSecrets` names (key `password`,
as the operator's users read theirs), else the one the control plane generated. A named Secret that is missing
or has no `password` key leaves the user out of every database (never a generated password in its place) and
is said in the user's `status.error`."""
from __future__ import annotations

from collections.abc import Callable

PASSWORD_KEY = "password"
MAX_PASSWORD = 512  # characters


class PasswordSecretMissing(Exception):
    """The user's passwordSecrets name a Secret this target does not have, or one without `password`."""


def secret_names(spec: dict) -> list[str]:
    return [str(item["name"]) for item in spec.get("passwordSecrets") or [] if isinstance(item, dict)
            and item.get("name")]


def from_secrets(spec: dict, namespace: str, read: Callable[[str], dict[str, str]]) -> str | None:
    """The password the first of `spec.passwordSecrets` holds (the second is the next one, kept for rotation
    but not read); None when the user names none. `read(name)` gives a secret's keys ({} when absent)."""
    names = secret_names(spec)
    if not names:
        return None
    values = read(names[0])
    if not values:
        raise PasswordSecretMissing(f"secret {names[0]} (spec.passwordSecrets[0]) does not exist in namespace "
                                    f"{namespace}; the user is left out until it does")
    password = str(values.get(PASSWORD_KEY) or "")
    if not 1 <= len(password) <= MAX_PASSWORD:
        raise PasswordSecretMissing(f"secret {names[0]} (spec.passwordSecrets[0]) has no `{PASSWORD_KEY}` key of 1 "
                                    f"to {MAX_PASSWORD} characters; the user is left out until it has")
    return password
