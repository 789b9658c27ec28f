"""The one validator for cluster (REC) specs, used by every write path.

(Write-path validation is being built in the foundation issue; `stored_cluster_problems` is the
check the reconciler runs on an already stored spec.)
"""
from __future__ import annotations


def stored_cluster_problems(cluster, driver) -> list[str]:
    """Reasons a stored, once-valid spec can no longer be realised on its target (status Invalid)."""
    from .spec import ClusterSpec

    problems = []
    spec = ClusterSpec.from_spec(cluster.spec)
    versions = driver.redis_versions()
    if spec.redis_version and spec.redis_version not in versions:
        problems.append(f"redisEnterpriseImageSpec.versionTag: version {spec.redis_version} is not available "
                        f"on target {cluster.target.name}; available: {', '.join(versions)}")
    return problems
