"""Runs the app's scheduled functions on a timer, as EventBridge does in production (``chalice local`` has none).

Locally every scheduled function runs once a minute (``--schedule-seconds``), whatever its production rate: what it
does depends on dates (a closed order's photos go 30 days later), so running it more often changes nothing but how
soon the demo, or a browser test, shows it.
"""
import logging
import threading
import uuid

from chalice.local import LambdaContext

from chalicelib import clock

log = logging.getLogger("local.scheduler")
INTERVAL_SECONDS = 60


class Scheduler:
    def __init__(self, app, interval: float = INTERVAL_SECONDS):
        from chalice.app import ScheduledEventConfig

        self._handlers = [source.name for source in app.event_sources if isinstance(source, ScheduledEventConfig)]
        self._app = app
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            for name in self._handlers:
                event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
                         "source": "aws.events", "account": "123456789012", "time": clock.iso(clock.now()),
                         "region": "eu-west-3", "resources": [], "detail": {}}
                try:
                    self._app.handler_map[name](event, LambdaContext(name, memory_size=256, max_runtime_ms=300_000))
                except Exception:  # noqa: BLE001 - as Lambda: log it, the next run tries again
                    log.exception("scheduled function failed", extra={"handler": name})
