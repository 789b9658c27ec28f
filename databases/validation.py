"""The one validator for database (REDB) specs, used by every write path."""
from __future__ import annotations


def stored_database_problems(database, driver) -> list[str]:
    """Reasons a stored, once-valid spec can no longer be realised on its target (status Invalid)."""
    from .spec import DatabaseSpec

    problems = []
    spec = DatabaseSpec.from_spec(database.spec, database.name)
    versions = driver.redis_versions()
    if spec.redis_version and spec.redis_version not in versions:
        problems.append(f"redisVersion: version {spec.redis_version} is not available on target "
                        f"{database.target.name}; available: {', '.join(versions)}")
    return problems
