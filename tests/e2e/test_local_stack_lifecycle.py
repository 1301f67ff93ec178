"""`make run`'s stack stops cleanly, every time: SIGTERM, Ctrl-C twice in a row, a signal during start-up; one stack
per state file; a state file left by a killed stack is not believed."""
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import launch_stack, start_stack

STOP_LIMIT = 10  # seconds: the promise, with room for a loaded machine within it


def group_members(pgid: int) -> list[int]:
    """Every live process of the process group (the stack runs in a session of its own), zombies aside."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
        state, group = fields[0], int(fields[2])
        if group == pgid and state != "Z":
            members.append(int(entry.name))
    return members


def assert_stopped_cleanly(process: subprocess.Popen, state_file: Path, log_path: Path) -> None:
    started = time.monotonic()
    try:
        status = process.wait(timeout=STOP_LIMIT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        pytest.fail("the stack did not stop within 10 s:\n" + log_path.read_text(errors="replace")[-3000:])
    assert status == 0, log_path.read_text(errors="replace")[-3000:]
    assert time.monotonic() - started < STOP_LIMIT
    assert group_members(process.pid) == []
    assert not state_file.exists()
    assert "Arrêt forcé" not in log_path.read_text(errors="replace")  # stopped by itself, not by the watchdog


def test_sigterm_stops_every_process_of_the_stack(tmp_path):
    running = start_stack(tmp_path, "--no-demo")
    assert requests.get(running.state["api_url"] + "/health", timeout=10).status_code == 200
    running.process.send_signal(signal.SIGTERM)
    assert_stopped_cleanly(running.process, tmp_path / "local-stack.json", running.log_path)


def test_ctrl_c_twice_within_100_ms_stops_it_once(tmp_path):
    running = start_stack(tmp_path, "--no-demo")
    running.process.send_signal(signal.SIGINT)
    time.sleep(0.05)
    running.process.send_signal(signal.SIGINT)
    assert_stopped_cleanly(running.process, tmp_path / "local-stack.json", running.log_path)


@pytest.mark.parametrize("delay", [0.8, 2.5])
def test_a_signal_during_start_up_stops_it(tmp_path, delay):
    """Early (emulation and API starting) and later (the demo data loading through the API)."""
    process, state_file, log_path = launch_stack(tmp_path)
    time.sleep(delay)
    assert process.poll() is None, log_path.read_text(errors="replace")
    assert not state_file.exists()  # still starting: the demo takes longer than this
    process.send_signal(signal.SIGTERM)
    assert_stopped_cleanly(process, state_file, log_path)


def test_a_second_stack_on_the_same_state_file_says_so_in_french_and_a_killed_ones_file_is_not_believed(tmp_path):
    first = start_stack(tmp_path, "--no-demo")
    second = launch_stack(tmp_path, "--no-demo")[0]
    assert second.wait(timeout=30) == 1
    log = (tmp_path / "stack.log").read_text(errors="replace")
    assert "Une pile locale tourne déjà" in log and first.state["site_url"] in log
    assert requests.get(first.state["api_url"] + "/health", timeout=10).status_code == 200  # untouched

    os.killpg(first.process.pid, signal.SIGKILL)  # no clean-up: its state file stays behind
    first.process.wait(timeout=10)
    assert (tmp_path / "local-stack.json").exists()
    third = start_stack(tmp_path, "--no-demo")
    assert third.state["pid"] == third.process.pid != first.state["pid"]
    third.process.send_signal(signal.SIGTERM)
    assert_stopped_cleanly(third.process, tmp_path / "local-stack.json", third.log_path)
