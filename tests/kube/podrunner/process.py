"""A container as real processes: its own mount, UTS, IPC and PID namespaces inside its pod's network namespace.

The root filesystem is an overlay over this machine's `/` (the image's binaries are the machine's:
see images.py), with a fresh writable layer per container start, private `/tmp`, `/run`, `/work`,
`/root` and `/home`, the pod's volumes bind-mounted at their `mountPath`, and the kubelet's
`/etc/hosts`, `/etc/resolv.conf` and `/etc/hostname`. The command runs as PID 1 of its namespace, so
it gets SIGTERM only if it handles it, as in a container. Secrets reach it through the environment,
never the command line.
"""
from __future__ import annotations

import os
import shlex
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

UNSHARE_SIGKILL = "unshare: sigprocmask unblock failed"
HIDDEN_DIRS = ("/tmp", "/run", "/var/tmp", "/work", "/root", "/home")
SETUP = """set -eu
R={root}
mount -t overlay overlay -o lowerdir=/,upperdir={upper},workdir={work} "$R"
mount --rbind /dev "$R/dev"
mount -t tmpfs -o mode=1777 shm "$R/dev/shm"
mount -t proc proc "$R/proc"
for d in {hidden}; do if [ -d "$R$d" ]; then mount -t tmpfs -o mode=1777 tmpfs "$R$d"; fi; done
{mounts}
hostname {hostname}
exec chroot --userspec={user} {groups} "$R" env --chdir={workdir} -- {argv}
"""


@dataclass
class Mount:
    source: Path
    target: str
    read_only: bool = False

    def script(self) -> str:
        target = shlex.quote(self.target)
        make = f'mkdir -p "$R"{target}' if self.source.is_dir() else \
            f'mkdir -p "$(dirname "$R"{target})"; [ -e "$R"{target} ] || touch "$R"{target}'
        lines = [make, f'mount --bind {shlex.quote(str(self.source))} "$R"{target}']
        if self.read_only:
            lines.append(f'mount -o remount,bind,ro "$R"{target}')
        return "\n".join(lines)


@dataclass
class Identity:
    uid: int = 0
    gid: int = 0
    groups: list[int] = field(default_factory=list)

    def setpriv(self) -> list[str]:
        groups = ["--groups", ",".join(map(str, self.groups))] if self.groups else ["--clear-groups"]
        return ["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", *groups, "--"]


class ContainerProcess:
    """One start of one container; `run_dir` holds its overlay layers, setup script and log."""

    def __init__(self, netns: str, run_dir: Path, argv: list[str], env: dict[str, str], mounts: list[Mount],
                 hostname: str, identity: Identity, workdir: str = "/"):
        self.netns, self.run_dir, self.argv, self.env = netns, run_dir, argv, env
        self.mounts, self.hostname, self.identity, self.workdir = mounts, hostname, identity, workdir
        self.popen: subprocess.Popen | None = None
        self.pid1: int | None = None
        self.killed_by: str | None = None  # "OOMKilled" when the runner simulated the OOM killer

    def start(self) -> None:
        for name in ("root", "upper", "work"):
            (self.run_dir / name).mkdir(parents=True, exist_ok=True)
        groups = f"--groups={','.join(map(str, self.identity.groups))}" if self.identity.groups else ""
        script = SETUP.format(root=shlex.quote(str(self.run_dir / "root")),
                              upper=shlex.quote(str(self.run_dir / "upper")),
                              work=shlex.quote(str(self.run_dir / "work")), hidden=" ".join(HIDDEN_DIRS),
                              mounts="\n".join(m.script() for m in self.mounts),
                              hostname=shlex.quote(self.hostname),
                              user=f"{self.identity.uid}:{self.identity.gid}", groups=groups,
                              workdir=shlex.quote(self.workdir), argv=" ".join(map(shlex.quote, self.argv)))
        (self.run_dir / "setup.sh").write_text(script)
        log = open(self.run_dir / "log", "ab")  # noqa: SIM115 - handed to the child
        try:
            self.popen = subprocess.Popen(
                ["ip", "netns", "exec", self.netns, "unshare", "--mount", "--uts", "--ipc", "--pid", "--fork",
                 "--kill-child", "--propagation", "private", "--", "sh", str(self.run_dir / "setup.sh")],
                env=self.env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            log.close()
        deadline = time.monotonic() + 10
        children = Path(f"/proc/{self.popen.pid}/task/{self.popen.pid}/children")
        while time.monotonic() < deadline and self.popen.poll() is None:
            try:
                found = children.read_text().split()
            except OSError:
                found = []
            if found:
                self.pid1 = int(found[0])
                break
            time.sleep(0.01)
        while time.monotonic() < deadline and self.poll() is None and self.pid1 is not None:
            try:
                if os.readlink(f"/proc/{self.pid1}/root") != "/":
                    return  # chrooted: every mount is in place, the container's command is starting
            except OSError:
                pass
            time.sleep(0.01)

    def poll(self) -> int | None:
        """The exit code once the container has stopped (128 + signal when killed), else None."""
        if self.popen is None:
            return 0
        code = self.popen.poll()
        if code is None:
            return None
        if code == 1 and UNSHARE_SIGKILL in self.log_tail(1):
            return 128 + signal.SIGKILL  # `unshare --fork` cannot re-raise SIGKILL on itself and says so
        return 128 - code if code < 0 else code

    def signal(self, sig: int) -> None:
        if self.pid1 is not None and self.poll() is None:
            try:
                os.kill(self.pid1, sig)
            except ProcessLookupError:
                pass

    def wait(self, timeout: float) -> int | None:
        if self.popen is None:
            return 0
        try:
            self.popen.wait(timeout=max(0.0, timeout))
        except subprocess.TimeoutExpired:
            return None
        return self.poll()

    def stop(self, grace: float) -> int | None:
        """SIGTERM, then SIGKILL once `grace` seconds have passed."""
        self.signal(signal.SIGTERM)
        code = self.wait(grace)
        if code is None:
            self.signal(signal.SIGKILL)
            if self.popen is not None and self.popen.poll() is None:
                os.killpg(self.popen.pid, signal.SIGKILL)
            code = self.wait(10)
        return code

    def exec(self, argv: list[str], timeout: float, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        """Run `argv` inside this container (its namespaces, root, user and environment), as `kubectl exec` does."""
        if self.pid1 is None or self.poll() is not None:
            return subprocess.CompletedProcess(argv, 126, "", "container is not running")
        command = ["nsenter", "-t", str(self.pid1), "-m", "-u", "-i", "-n", "-p", "-r", "-w", "--",
                   *self.identity.setpriv(), *argv]
        proc = subprocess.Popen(command, env=env if env is not None else self.env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            return subprocess.CompletedProcess(argv, 124, out, (err or "") + f"\ntimed out after {timeout}s")
        return subprocess.CompletedProcess(argv, proc.returncode, out, err)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join((self.run_dir / "log").read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""
