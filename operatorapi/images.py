"""Image tags of the Redis Enterprise operator's REC, and what they mean here."""
from __future__ import annotations

import re

# Redis Enterprise Software versions: major.minor.patch-build, e.g. 7.8.6-13, or the OpenShift
# images' 8.0.20-44.23. Redis (open source) versions, which this control plane runs, have no build part.
_ENTERPRISE_VERSION = re.compile(r"^\d+\.\d+\.\d+-\d+([.\-][0-9A-Za-z.\-]*)?$")


def is_enterprise_version(tag: object) -> bool:
    """True if `tag` is a Redis Enterprise Software image tag rather than a Redis version."""
    return isinstance(tag, str) and bool(_ENTERPRISE_VERSION.match(tag))
