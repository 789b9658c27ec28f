"""A bounded schemathesis pass over the served schema (scripts/fuzz_api.py) finds no 5xx."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_bounded_schemathesis_pass_finds_no_server_error():
    # The coverage and stateful phases (most of `make fuzz`'s minute and a half) are left to `make fuzz`.
    command = [sys.executable, str(ROOT / "scripts" / "fuzz_api.py"), "--max-examples", "5", "--",
               "--phases", "examples,fuzzing"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=ROOT)
    summary = [line for line in result.stdout.splitlines() if line.startswith("fuzz:")]
    assert summary, result.stdout[-3000:] + result.stderr[-3000:]
    assert " 0 server errors (5xx)" in summary[0] and " 0 tracebacks" in summary[0], result.stdout[-4000:]
    assert int(summary[0].split()[1]) > 100  # it really ran cases
    assert result.returncode == 0
