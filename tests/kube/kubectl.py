"""The real `kubectl` against a standalone emulator, shared by the tests that drive it as a person would."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path


def kubectl(standalone: tuple[Path, Path], *args: str, stdin: str | None = None,
            check: bool = True) -> subprocess.CompletedProcess:
    """Run `kubectl args` with the emulator's kubeconfig, HOME and cache in the test's own folder (no
    ~/.kube of the machine leaks in); with `check`, a non-zero exit fails the test with kubectl's stderr."""
    kubeconfig, home = standalone
    result = subprocess.run(["kubectl", "--kubeconfig", str(kubeconfig), "--cache-dir", str(home / "cache"), *args],
                            input=stdin, capture_output=True, text=True, timeout=60,
                            env={"HOME": str(home), "PATH": os.environ.get("PATH", "/usr/bin:/bin")})
    if check:
        assert result.returncode == 0, result.stderr
    return result
