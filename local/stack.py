"""The whole portal on one machine, in one process: `make run`.

Starts the AWS emulation (moto's in-process server), creates the tables, bucket, queues and notifications, serves the
API with `chalice local` (in-process, no autoreload: its reloader forks a child that outlives us), relays S3 events to
the Lambda handlers, serves the static site, loads the demo data through the same API a person would use, writes
`var/local-stack.json` and prints how to use it. Ctrl-C or SIGTERM stops everything and frees the ports, also during
start-up; the stack is one process (threads only), so nothing outlives it.
"""
import argparse
import fcntl
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
STAGE = "local"
PREFERRED_PORTS = {"api": 8000, "site": 8001, "aws": 8002, "datagouv": 8003, "oidc": 8004}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Run the whole portal locally on the AWS emulation.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--free-ports", action="store_true",
                        help="take any free ports (tests) instead of 8000/8001/8002/8003")
    parser.add_argument("--state-file", default=os.environ.get("LOCAL_STACK_FILE", str(PROJECT_DIR / "var" / "local-stack.json")))
    parser.add_argument("--outbox", default=os.environ.get("LOCAL_OUTBOX", str(PROJECT_DIR / "var" / "outbox")))
    parser.add_argument("--no-demo", action="store_true", help="start empty, without the demo data")
    parser.add_argument("--schedule-seconds", type=float, default=60,
                        help="what an hour of production's schedules lasts here: the hourly purge runs every this "
                             "many seconds, the daily sync with data.gouv.fr 24 times less often")
    return parser.parse_args(argv)


def reserve_port(host: str, preferred: int, free_only: bool) -> socket.socket:
    """A socket bound to the preferred port, or to any free one: kept bound until its server is about to start, so
    that the stack's own outgoing connections (to the emulation, to the fake data.gouv.fr), which take ephemeral
    ports from the same range, cannot take it in between."""
    candidates = ([] if free_only else [preferred]) + [0]
    for port in candidates:
        probe = socket.socket()
        try:
            probe.bind((host, port))
        except OSError:
            probe.close()
            continue
        return probe
    raise RuntimeError("no free port")


def prepare_environment(aws_url: str, site_url: str, outbox: str, datagouv_url: str | None = None,
                        oidc_discovery_url: str | None = None) -> None:
    """Fake credentials and the emulation's address, before any boto3 client exists."""
    config = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())
    os.environ.update(config["environment_variables"])
    os.environ.update(config["stages"][STAGE]["environment_variables"])
    os.environ.update({
        "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": "eu-west-3",
        "AWS_REGION": "eu-west-3", "AWS_ENDPOINT_URL": aws_url, "SITE_URL": site_url, "OUTBOX_DIR": outbox,
    })
    if datagouv_url:  # the stack's fake data.gouv.fr (local/fake_datagouv.py)
        os.environ["DATAGOUV_URL"] = datagouv_url
    if oidc_discovery_url:  # the stack's OpenID Connect provider in ProConnect's place (local/oidc_provider.py)
        from local.oidc_provider import CLIENT_ID, CLIENT_SECRET

        os.environ.update({"PROCONNECT_DISCOVERY_URL": oidc_discovery_url, "PROCONNECT_CLIENT_ID": CLIENT_ID,
                           "PROCONNECT_CLIENT_SECRET": CLIENT_SECRET})
    os.environ.pop("AWS_PROFILE", None)
    os.environ.pop("AWS_SESSION_TOKEN", None)


STOP_GRACE_SECONDS = 8  # past this a stop that hangs is cut short: the promise is "gone within seconds"


class StopRequested(BaseException):
    """Raised in the main thread by the first SIGINT or SIGTERM, wherever start-up or the wait stands. A
    BaseException, so that no ``except Exception`` of start-up code swallows it."""


class AlreadyRunning(RuntimeError):
    pass


def stop_on_signals() -> None:
    """The first SIGINT or SIGTERM raises StopRequested; later ones are ignored, since the stack is already stopping.
    (A handler that waits on a lock can be re-entered by a second signal while it holds that lock: the former
    version, which set a threading.Event from the handler, hung there.)"""
    def on_signal(signum, frame):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise StopRequested(signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)


class LocalStack:
    def __init__(self, args):
        self.args = args
        self._stoppers = []
        self._lock = None

    def claim(self) -> None:
        """One stack per state file: a lock held while the process lives (the kernel drops it if the process dies,
        even killed), so that a stale state file, left by a process killed with SIGKILL, is told apart from a live
        one."""
        path = Path(self.args.state_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = open(path.with_suffix(".lock"), "a+")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            self._lock = None
            raise AlreadyRunning(_running_message(path)) from None
        path.unlink(missing_ok=True)  # left by a stack that was killed: nothing serves what it says

    def start(self) -> dict:
        from moto.server import ThreadedMotoServer

        from local.emulation import prepare_dynamodb

        prepare_dynamodb()
        host = self.args.host
        reserved = {name: reserve_port(host, port, self.args.free_ports) for name, port in PREFERRED_PORTS.items()}
        ports = {name: probe.getsockname()[1] for name, probe in reserved.items()}

        def release(name: str) -> int:
            reserved.pop(name).close()
            return ports[name]

        moto = ThreadedMotoServer(ip_address=host, port=release("aws"), verbose=False)
        moto.start()
        self._stoppers.append(moto.stop)
        aws_url = f"http://{host}:{ports['aws']}"
        api_url = f"http://{host}:{ports['api']}"
        site_url = f"http://{host}:{ports['site']}"
        from local.fake_datagouv import FakeDataGouv

        datagouv = FakeDataGouv(self._config_value("DATAGOUV_DATASET"), host, release("datagouv")).start()
        self._stoppers.insert(0, datagouv.stop)
        from local.oidc_provider import LocalOidcProvider, state_entry

        oidc = LocalOidcProvider(host, release("oidc")).start()
        self._stoppers.insert(0, oidc.stop)
        prepare_environment(aws_url, site_url, self.args.outbox, datagouv.url, oidc.discovery_url)

        from chalicelib.aws import reset_settings_and_clients
        from chalicelib.settings import get_settings
        from local.resources import create_resources, HANDLERS_BY_QUEUE

        reset_settings_and_clients()
        settings = get_settings()
        queue_urls = create_resources(settings, site_origin=site_url)
        from local.demo import REFERENCE_DATA
        from local.fake_datagouv import serve_reference_files

        serve_reference_files(datagouv, dict(settings.datagouv_resources), REFERENCE_DATA)

        app = self._start_api(host, release("api"))
        from local.relay import S3EventRelay

        relay = S3EventRelay(app, HANDLERS_BY_QUEUE, queue_urls)
        relay.start()
        self._stoppers.insert(0, relay.stop)
        from local.scheduler import Scheduler

        scheduler = Scheduler(app, interval=self.args.schedule_seconds)
        scheduler.start()
        self._stoppers.insert(0, scheduler.stop)

        from local.site_server import start_site_server

        site = start_site_server(PROJECT_DIR / "site", host, release("site"), api_url, aws_url)
        self._stoppers.insert(0, site.shutdown)

        state = {"api_url": api_url, "site_url": site_url, "aws_url": aws_url, "datagouv_url": datagouv.url,
                 "oidc_provider": state_entry(oidc),
                 "outbox_dir": str(Path(self.args.outbox).resolve()), "pid": os.getpid(),
                 "state_file": str(Path(self.args.state_file).resolve())}
        if not self.args.no_demo:
            from local.demo import load_demo

            state.update(load_demo(api_url, Path(self.args.outbox)))
        self._write_state(state)
        return state

    @staticmethod
    def _config_value(name: str) -> str:
        return json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())["environment_variables"][name]

    def _start_api(self, host: str, port: int):
        from chalice.cli.factory import CLIFactory

        from local.api_server import create_api_server

        factory = CLIFactory(str(PROJECT_DIR), environ=os.environ)
        server = create_api_server(factory, host, port, STAGE)
        from chalicelib.aws import reset_settings_and_clients

        reset_settings_and_clients()  # chalice loaded the stage's environment: read it again
        threading.Thread(target=server.server.serve_forever, name="api", daemon=True).start()
        self._stoppers.insert(0, server.shutdown)
        return server.app_object

    def _write_state(self, state: dict) -> None:
        path = Path(self.args.state_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".part")
        temporary.write_text(json.dumps(state, indent=2, ensure_ascii=False) + "\n")
        temporary.replace(path)

    def stop(self) -> None:
        for stop in self._stoppers:
            try:
                stop()
            except Exception:  # noqa: BLE001 - stop everything we can
                logging.getLogger("local").exception("while stopping")
        self._stoppers.clear()
        if self._lock is not None:  # only the stack that owns the state file removes it
            Path(self.args.state_file).unlink(missing_ok=True)
            self._lock.close()
            self._lock = None


def _running_message(state_file: Path) -> str:
    try:
        state = json.loads(state_file.read_text())
        where = f" (processus {state['pid']}, site {state['site_url']})"
    except (OSError, ValueError, KeyError):
        where = " (elle démarre encore)"
    return (f"Une pile locale tourne déjà{where}, décrite par {state_file}.\n"
            "Utilisez-la, ou arrêtez-la d'abord (Ctrl-C dans son terminal) avant de relancer `make run`.")


def _cut_short_after(seconds: float) -> None:
    """A watchdog for the stop: threads that do not end in time do not keep the process (and its ports) alive."""
    def cut():
        print("Arrêt forcé : une partie de la pile ne s'est pas arrêtée à temps.", file=sys.stderr, flush=True)
        os._exit(0)

    timer = threading.Timer(seconds, cut)
    timer.daemon = True
    timer.start()


def print_summary(state: dict) -> None:
    lines = [
        "",
        "Portail des cartes d'identité des élus — pile locale prête",
        f"  Site        {state['site_url']}",
        f"  API         {state['api_url']}   (OpenAPI : {state['api_url']}/openapi.json)",
        f"  Courriels   {state['outbox_dir']}   (chaque e-mail envoyé y est écrit en .eml)",
        f"  data.gouv.fr simulé  {state['datagouv_url']}   (les fichiers du RNE de data/reference/)",
        f"  ProConnect simulé    {state['oidc_provider']['url']}   (identités de démonstration : "
        f"{', '.join(state['oidc_provider']['identities'])})",
    ]
    demo = state.get("demo")
    if demo:
        operators = state["operators"]
        lines += [
            f"  Commune à inscrire : {demo['commune_name']}  SIREN {demo['siren']}  "
            f"code d'activation {demo['activation_code']}",
            f"  Commune inscrite : {state['demo_agent']['commune_name']}  agent {state['demo_agent']['email']} / "
            f"{state['demo_agent']['password']}",
            f"  Fabricant  : {operators['manufacturer']['email']} / {operators['manufacturer']['password']}  "
            f"(double authentification : secret {operators['manufacturer']['totp_secret']})",
            f"  Préfecture ({operators['prefecture']['department_code']}) : {operators['prefecture']['email']} / "
            f"{operators['prefecture']['password']}  (secret {operators['prefecture']['totp_secret']})",
        ]
    lines += [f"  État de la pile : {state['state_file']} — Ctrl-C pour arrêter.", ""]
    print("\n".join(lines), flush=True)


def main(argv=None) -> int:
    stop_on_signals()  # first: a signal during start-up stops the stack too
    try:
        return run(parse_args(argv))
    except StopRequested:  # before anything was started
        return 0


def run(args) -> int:
    sys.path.insert(0, str(PROJECT_DIR))
    # The emulation's request log would drown the portal's own JSON log lines.
    logging.getLogger("werkzeug").disabled = True
    stack = LocalStack(args)
    try:
        stack.claim()
    except AlreadyRunning as error:
        print(error, file=sys.stderr, flush=True)
        return 1
    try:
        state = stack.start()
        print_summary(state)
        while True:
            # Not signal.pause(): the kernel may deliver the signal to another thread, and pause() would never
            # return; a short sleep lets the main thread run the handler within half a second.
            time.sleep(0.5)
    except StopRequested:
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # whatever ended the wait, the stop is not interrupted
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("Arrêt de la pile locale…", flush=True)
        _cut_short_after(STOP_GRACE_SECONDS)
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
