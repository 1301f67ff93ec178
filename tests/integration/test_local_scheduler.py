"""The local stack's timer runs the app's scheduled functions as EventBridge would (chalice local has none)."""
import threading

from chalicelib.services import retention
from local.scheduler import Scheduler


def test_the_scheduled_purge_runs_on_the_local_timer_with_an_eventbridge_event(app, monkeypatch):
    ran = threading.Event()
    original = retention.run

    def run(c):
        result = original(c)  # the real purge, on the emulation: nothing due, nothing deleted
        ran.set()
        return result

    monkeypatch.setattr(retention, "run", run)
    scheduler = Scheduler(app, interval=0.05)
    scheduler.start()
    try:
        assert ran.wait(timeout=10), "the purge did not run"
    finally:
        scheduler.stop()
    assert not scheduler._thread.is_alive()
