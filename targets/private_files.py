"""Files only the control plane's user may read: configs with passwords, data, state.

The local target's processes write their own files (Redis's CONFIG REWRITE, sentinel's config,
RDB/AOF, logs) with the umask they were started with, so every program the control plane starts
gets `PRIVATE_UMASK`; what the control plane writes itself goes through `write_private` and
`private_dir`. `make_tree_private` fixes a tree written before this rule (adoption).
"""
from __future__ import annotations

import os
from pathlib import Path

PRIVATE_UMASK = 0o077
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600

_made_private: set[Path] = set()


def private_dir(path: Path) -> Path:
    """`path` and any missing parents, created 0700."""
    path = Path(path)
    missing = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:
            pass  # a concurrent process made it
        os.chmod(directory, PRIVATE_DIR)
    return path


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` (0600 even if it existed with a wider mode)."""
    private_dir(Path(path).parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(fd, "w") as handle:
        os.fchmod(fd, PRIVATE_FILE)
        handle.write(text)


def open_private(path: Path, mode: str = "a+"):
    """`open(path, mode)` for a file that is created 0600 (lock files)."""
    private_dir(Path(path).parent)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE))
    return open(path, mode)  # noqa: SIM115 (the caller closes it)


def make_tree_private(root: Path) -> None:
    """Take group and other permissions off `root` and everything under it (symlinks are left alone)."""
    root = Path(root)
    if not root.exists():
        return
    for directory, _dirnames, filenames in os.walk(root):
        for name in [None, *filenames]:
            path = directory if name is None else os.path.join(directory, name)
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                continue  # removed while we walked
            if not os.path.islink(path) and st.st_mode & 0o077:
                os.chmod(path, st.st_mode & 0o700)


def made_private_once(root: Path) -> Path:
    """`make_tree_private(root)` the first time this process sees `root` (adopting an older tree)."""
    root = Path(root)
    if root not in _made_private:
        private_dir(root)
        make_tree_private(root)
        _made_private.add(root)
    return root
