"""An AWS emulation in its own process, for benchmarks whose measured process must pay real HTTP round trips.

    with Endpoint() as aws:          # moto's server on a free loopback port, the tables, bucket and queues created
        env = aws.environment()      # what a function's process needs: the stage's variables, the endpoint's URL
        token = aws.session(...)     # a commune agent's session, written in the emulation

The server is ``python -m bench.endpoint`` (moto's ``ThreadedMotoServer`` with the project's emulation patches,
``local.emulation``): it binds port 0, creates the resources as the local stack does, prints its URL, and stops when
its standard input closes, so that it never outlives the bench (nor a bench that was killed).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .common import PROJECT_DIR

DEMO_SIREN = "210100533"


def stage_environment(url: str) -> dict:
    """The variables the deployed functions get (``.chalice/config.json``, stage local), with the endpoint's URL."""
    config = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "AWS_"))}
    env.update(config["environment_variables"])
    env.update(config["stages"]["local"]["environment_variables"])
    env.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="eu-west-3",
               AWS_REGION="eu-west-3", AWS_ENDPOINT_URL=url, SITE_URL="https://site.test",
               OUTBOX_DIR=str(PROJECT_DIR / "var" / "bench" / "outbox"))
    return env


class Endpoint:
    def __init__(self):
        self.process: subprocess.Popen | None = None
        self.url = ""

    def __enter__(self) -> "Endpoint":
        self.process = subprocess.Popen([sys.executable, "-m", "bench.endpoint", "--serve"], cwd=PROJECT_DIR,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                        text=True,
                                        env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")})
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the AWS emulation did not start")
        self.url = json.loads(line)["url"]
        return self

    def __exit__(self, *exc) -> None:
        if self.process is not None:
            self.process.stdin.close()  # the server stops when its input closes
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def environment(self) -> dict:
        return stage_environment(self.url)

    def rss_mib(self) -> float:
        """The emulation's resident memory (MiB)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0


def seed_commune_session(officials: int = 12) -> str:
    """In the current process (its environment pointing at the endpoint): a commune agent's account, ``officials``
    registered officials, and a session; returns the bearer token."""
    from datetime import date

    from chalicelib import clock
    from chalicelib.services.sessions import open_session
    from chalicelib.store.tables import Account, Official

    now = clock.now()
    account = Account("agent@mairie-bourg.fr", account_id="0123456789abcdef0123456789abcdef", role="commune",
                      first_name="Camille", last_name="Martin", siren=DEMO_SIREN, department_code="01",
                      insee_code="01053", commune_name="Bourg-en-Bresse", created_at=now)
    account.save()
    with Official.batch_write() as batch:
        for index in range(officials):
            batch.save(Official(DEMO_SIREN, f"person-{index:03d}", insee_code="01053", last_name=f"NOM{index}",
                                first_name="Prénom", sex="F" if index % 2 else "M", birth_date="1970-01-01",
                                mandate_start=date(2026, 3, 22).isoformat(), function="adjoint",
                                eligible_functions=["adjoint"], commune_label="Bourg-en-Bresse",
                                department_label="Ain", created_at=now))
    return open_session(account)["token"]


def _serve() -> int:
    from moto.server import ThreadedMotoServer

    from local.emulation import prepare_dynamodb

    prepare_dynamodb()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    os.environ.update(stage_environment(url))
    from chalicelib.aws import reset_settings_and_clients
    from chalicelib.settings import get_settings
    from local.resources import create_resources

    reset_settings_and_clients()
    create_resources(get_settings())
    print(json.dumps({"url": url}), flush=True)
    sys.stdin.read()  # until the bench closes our input (or dies)
    server.stop()
    return 0


if __name__ == "__main__":
    if "--serve" in sys.argv:
        sys.exit(_serve())
