"""`manage.py` for a live stack, started once: each request on a Unix socket runs one command line.

A live stack steps its control plane with many `manage.py` commands (apply, reconcile, shell); a fresh
Python each time spends 1.5-2.5 s importing Django and the product before the command starts. This process
imports them once and runs each command line through manage.py's own `main()` (so the Redis-down message
and the exit codes are the same), one at a time, as a long-lived worker process would. Database
connections are closed after every command, so a restarted database server is simply reconnected to.

Protocol: the client sends one JSON array of arguments and shuts its writing side; the answer is one JSON
object {"code", "stdout", "stderr"}. Run as `python -m tests.browser.manage_server SOCKET` in the stack's
environment; it serves until it is terminated.
"""
from __future__ import annotations

import contextlib
import io
import json
import socket
import sys
import time
import traceback

import django
from django.db import connections

import manage


def run(args: list[str]) -> dict:
    out, err = io.StringIO(), io.StringIO()
    code = 0
    argv = sys.argv
    sys.argv = ["manage.py", *args]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                manage.main()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except BaseException:  # noqa: BLE001 - reported to the caller as manage.py would print it
                traceback.print_exc()
                code = 1
    finally:
        sys.argv = argv
        connections.close_all()
    return {"code": code, "stdout": out.getvalue(), "stderr": err.getvalue()}


def receive(connection: socket.socket) -> bytes:
    chunks = []
    while chunk := connection.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def serve(path: str) -> None:
    django.setup()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(path)
        server.listen(4)
        while True:
            connection, _ = server.accept()
            with connection:
                args, started = json.loads(receive(connection)), time.monotonic()
                answer = run(args)
                print(f"manage.py {' '.join(args[:4])}: exit {answer['code']} in {time.monotonic() - started:.2f}s",
                      file=sys.__stderr__, flush=True)
                connection.sendall(json.dumps(answer).encode())


if __name__ == "__main__":
    serve(sys.argv[1])
