"""Start the app in its own process, wait until it answers, stop it; and call its API over raw HTTP.

    with running_app() as (proc, url):       # app.py on a free loopback port
        call_url(url, "generate", [42, 4, 1.0])

The one helper every script, benchmark and test uses: it notices an app that exits during start-up (a bad model,
a bad setting) at once, with the app's own last lines, instead of polling until the time-out.
"""
from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

import httpx

ROOT = Path(__file__).resolve().parent.parent


class AppDidNotStart(RuntimeError):
    """The app exited during start-up, or did not answer in time."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(h: httpx.Client, name: str, data: list, session_hash: str | None = None) -> tuple[str, str]:
    """One API call over raw HTTP: (last event name, its data). Without a session_hash each call is a new
    Gradio session (the costliest case); browsers and gradio_client reuse theirs."""
    body = {"data": data} | ({"session_hash": session_hash} if session_hash else {})
    r = h.post(f"gradio_api/call/{name}", content=json.dumps(body), headers={"content-type": "application/json"})  # NaN as a literal
    if r.status_code != 200:
        return f"http {r.status_code}", r.text[:200]
    event, payload = "", ""
    with h.stream("GET", f"gradio_api/call/{name}/{r.json()['event_id']}") as s:
        for line in s.iter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                payload = line.split(":", 1)[1].strip()
    return event, payload


def call_url(url: str, name: str, data: list, timeout: float = 60) -> tuple[str, str]:
    with httpx.Client(base_url=url, timeout=timeout) as h:
        return call(h, name, data)


def start_app(port: int, argv: list[str] | None = None, timeout: float = 120) -> subprocess.Popen:
    """app.py (or `python <argv> --port N`) on 127.0.0.1:port, returned once its page answers; raises
    AppDidNotStart with the app's last output as soon as it exits, or after `timeout` seconds."""
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    argv = argv or ["app.py", "--host", "127.0.0.1"]
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen([sys.executable, *argv, "--port", str(port)], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            tail = log.read().decode(errors="replace").strip().splitlines()[-5:]
            raise AppDidNotStart(f"{' '.join(argv)} exited with code {proc.returncode} during start-up:\n" + "\n".join(tail))
        try:
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.25)
    stop(proc)
    raise AppDidNotStart(f"{' '.join(argv)} did not answer on port {port} within {timeout:g} s")


def stop(proc: subprocess.Popen) -> None:
    """Terminate, then kill if it lingers."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def running_app(argv: list[str] | None = None, port: int | None = None) -> Iterator[tuple[subprocess.Popen, str]]:
    """The app running for the duration of a `with` block: yields (process, its URL)."""
    port = port or free_port()
    proc = start_app(port, argv)
    try:
        yield proc, f"http://127.0.0.1:{port}/"
    finally:
        stop(proc)
