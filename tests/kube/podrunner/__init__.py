"""Pods that run for real for the API server emulator: see runner.py and docs/kubernetes.md."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from .runner import PodRunner

TOOLS = ("ip", "unshare", "nsenter", "setpriv", "chroot", "mount", "redis-server", "redis-sentinel", "redis-cli")


def unavailable() -> str | None:
    """Why pods cannot run here (None when they can): they need root, util-linux, iproute2 and overlayfs."""
    if os.geteuid() != 0:
        return "running pods needs root (network, mount and PID namespaces; CI runs as root)"
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        return f"running pods needs {', '.join(missing)} (scripts/install-system-deps.sh)"
    if "overlay" not in Path("/proc/filesystems").read_text():
        return "running pods needs overlayfs in the kernel"
    return None


__all__ = ["PodRunner", "unavailable"]
