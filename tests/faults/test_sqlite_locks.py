"""SQLite under several processes: opening a connection in a process that already has one must not drop
that process's locks (a close() of any descriptor of the file does), or another process deletes the WAL
under it and its next query fails with "disk I/O error" (found by the load smoke test)."""
from __future__ import annotations

import sqlite3
import subprocess
import sys

from controlplane.sqlite3.base import make_private

CLOSE_ELSEWHERE = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], timeout=30)
connection.execute("SELECT count(*) FROM t").fetchall()
connection.close()  # the last connection, as far as it can tell, checkpoints and deletes the WAL
"""


def test_a_new_connection_keeps_the_other_connections_of_its_process_safe(tmp_path):
    path = tmp_path / "controlplane.sqlite3"
    first = sqlite3.connect(path, timeout=30, isolation_level=None)
    first.execute("PRAGMA journal_mode=WAL")
    first.execute("CREATE TABLE t (x)")
    first.execute("INSERT INTO t VALUES (1)")
    assert (tmp_path / "controlplane.sqlite3-wal").exists()

    make_private(str(path))  # what every new Django connection does first
    subprocess.run([sys.executable, "-c", CLOSE_ELSEWHERE, str(path)], check=True, timeout=60)

    assert (tmp_path / "controlplane.sqlite3-wal").exists(), "another process deleted the WAL under a live connection"
    assert first.execute("SELECT count(*) FROM t").fetchone() == (1,)
    first.close()


def test_the_database_file_is_created_private_and_kept_private(tmp_path):
    path = tmp_path / "new.sqlite3"
    make_private(str(path))
    assert path.stat().st_mode & 0o777 == 0o600
    path.chmod(0o644)
    make_private(str(path))
    assert path.stat().st_mode & 0o777 == 0o600
