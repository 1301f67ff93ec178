"""The real local stack, started as `make run` starts it, on free ports, with its own state file and outbox."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]


class RunningStack:
    def __init__(self, process: subprocess.Popen, state: dict, log_path: Path):
        self.process = process
        self.state = state
        self.log_path = log_path

    def stop(self, timeout: float = 20) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)


def launch_stack(tmp_path: Path, *extra_args: str) -> tuple[subprocess.Popen, Path, Path]:
    """The stack's process, in a session of its own (its process group is the stack and whatever it would start),
    with its state file and log in ``tmp_path``."""
    state_file = tmp_path / "local-stack.json"
    log_path = tmp_path / "stack.log"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "local.stack", "--free-ports", "--state-file", str(state_file),
             "--outbox", str(tmp_path / "outbox"), "--schedule-seconds", "2", *extra_args],
            cwd=PROJECT_DIR, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    return process, state_file, log_path


def start_stack(tmp_path: Path, *extra_args: str, timeout: float = 120) -> RunningStack:
    process, state_file, log_path = launch_stack(tmp_path, *extra_args)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("local stack exited:\n" + log_path.read_text(errors="replace")[-5000:])
        state = _read_state(state_file)
        if state and state["pid"] == process.pid:  # not a file left behind by a killed stack
            return RunningStack(process, state, log_path)
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("local stack did not start:\n" + log_path.read_text(errors="replace")[-5000:])


def _read_state(state_file: Path) -> dict | None:
    try:
        return json.loads(state_file.read_text())
    except (OSError, ValueError):  # not there yet (it is written whole, by a rename)
        return None


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = start_stack(tmp_path_factory.mktemp("stack"))
    yield running
    running.stop()
