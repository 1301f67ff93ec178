"""Runs the app's scheduled functions on a timer, as EventBridge does in production (``chalice local`` has none).

Locally time runs faster: an hour of production lasts a minute (``--schedule-seconds``), so the hourly purge runs
every minute and the daily sync with data.gouv.fr every 24 minutes. What the purge does depends on dates (a closed
order's photos go 30 days later), so running it more often changes nothing but how soon the demo, or a browser test,
shows it; the sync keeps a record of each run, so running it every minute would bury the one an operator asked for.
"""
import logging
import threading
import time
import uuid

from chalice.local import LambdaContext

from chalicelib import clock

log = logging.getLogger("local.scheduler")
INTERVAL_SECONDS = 60
HOURS_PER_UNIT = {"MINUTES": 1 / 60, "HOURS": 1, "DAYS": 24}


def local_period(expression, hour_seconds: float) -> float:
    """Seconds between two runs here of a function scheduled at ``expression`` in production (a cron: hourly)."""
    from chalice.app import Rate

    if isinstance(expression, Rate):
        return hour_seconds * expression.value * HOURS_PER_UNIT[expression.unit]
    return hour_seconds


class Scheduler:
    def __init__(self, app, interval: float = INTERVAL_SECONDS):
        """``interval``: what an hour of production lasts here, in seconds."""
        from chalice.app import ScheduledEventConfig

        self._periods = {source.name: local_period(source.schedule_expression, interval)
                         for source in app.event_sources if isinstance(source, ScheduledEventConfig)}
        self._app = app
        self._interval = min(self._periods.values(), default=interval)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        started = time.monotonic()
        due = {name: started + period for name, period in self._periods.items()}
        while not self._stop.wait(max(0.0, min(due.values(), default=started + self._interval) - time.monotonic())):
            now = time.monotonic()
            for name in [n for n, at in due.items() if at <= now]:
                due[name] = now + self._periods[name]
                event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
                         "source": "aws.events", "account": "123456789012", "time": clock.iso(clock.now()),
                         "region": "eu-west-3", "resources": [], "detail": {}}
                try:
                    self._app.handler_map[name](event, LambdaContext(name, memory_size=256, max_runtime_ms=300_000))
                except Exception:  # noqa: BLE001 - as Lambda: log it, the next run tries again
                    log.exception("scheduled function failed", extra={"handler": name})
