"""The whole portal on one machine, in one process: `make run`.

Starts the AWS emulation (moto's in-process server), creates the tables, bucket, queues and notifications, serves the
API with `chalice local` (in-process, no autoreload: its reloader forks a child that outlives us), relays S3 events to
the Lambda handlers, serves the static site, loads the demo data through the same API a person would use, writes
`var/local-stack.json` and prints how to use it. Ctrl-C or SIGTERM stops everything and frees the ports.
"""
import argparse
import json
import logging
import os
import signal
import socket
import sys
import threading
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
STAGE = "local"
PREFERRED_PORTS = {"api": 8000, "site": 8001, "aws": 8002}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Run the whole portal locally on the AWS emulation.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--free-ports", action="store_true",
                        help="take any free ports (tests) instead of 8000/8001/8002")
    parser.add_argument("--state-file", default=os.environ.get("LOCAL_STACK_FILE", str(PROJECT_DIR / "var" / "local-stack.json")))
    parser.add_argument("--outbox", default=os.environ.get("LOCAL_OUTBOX", str(PROJECT_DIR / "var" / "outbox")))
    parser.add_argument("--shared-data", default=str(PROJECT_DIR.parent / "shared" / "data"))
    parser.add_argument("--no-demo", action="store_true", help="start empty, without the demo data")
    parser.add_argument("--schedule-seconds", type=float, default=60,
                        help="how often the scheduled functions run (production: their own rate, e.g. hourly)")
    return parser.parse_args(argv)


def pick_port(host: str, preferred: int, free_only: bool) -> int:
    candidates = ([] if free_only else [preferred]) + [0]
    for port in candidates:
        with socket.socket() as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise RuntimeError("no free port")


def prepare_environment(aws_url: str, site_url: str, outbox: str) -> None:
    """Fake credentials and the emulation's address, before any boto3 client exists."""
    config = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())
    os.environ.update(config["environment_variables"])
    os.environ.update(config["stages"][STAGE]["environment_variables"])
    os.environ.update({
        "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": "eu-west-3",
        "AWS_REGION": "eu-west-3", "AWS_ENDPOINT_URL": aws_url, "SITE_URL": site_url, "OUTBOX_DIR": outbox,
    })
    os.environ.pop("AWS_PROFILE", None)
    os.environ.pop("AWS_SESSION_TOKEN", None)


class LocalStack:
    def __init__(self, args):
        self.args = args
        self.stopped = threading.Event()
        self._stoppers = []

    def start(self) -> dict:
        from moto.server import ThreadedMotoServer

        from local.emulation import make_dynamodb_atomic

        make_dynamodb_atomic()
        host = self.args.host
        ports = {name: pick_port(host, port, self.args.free_ports) for name, port in PREFERRED_PORTS.items()}
        moto = ThreadedMotoServer(ip_address=host, port=ports["aws"], verbose=False)
        moto.start()
        self._stoppers.append(moto.stop)
        aws_url = f"http://{host}:{ports['aws']}"
        api_url = f"http://{host}:{ports['api']}"
        site_url = f"http://{host}:{ports['site']}"
        prepare_environment(aws_url, site_url, self.args.outbox)

        from chalicelib.settings import get_settings, reset_settings
        from local.resources import create_resources, HANDLERS_BY_QUEUE

        reset_settings()
        settings = get_settings()
        queue_urls = create_resources(settings, site_origin=site_url)

        app = self._start_api(host, ports["api"])
        from local.relay import S3EventRelay

        relay = S3EventRelay(app, HANDLERS_BY_QUEUE, queue_urls)
        relay.start()
        self._stoppers.insert(0, relay.stop)
        from local.scheduler import Scheduler

        scheduler = Scheduler(app, interval=self.args.schedule_seconds)
        scheduler.start()
        self._stoppers.insert(0, scheduler.stop)

        from local.site_server import start_site_server

        site = start_site_server(PROJECT_DIR / "site", host, ports["site"], api_url, aws_url)
        self._stoppers.insert(0, site.shutdown)

        state = {"api_url": api_url, "site_url": site_url, "aws_url": aws_url,
                 "outbox_dir": str(Path(self.args.outbox).resolve()), "pid": os.getpid(),
                 "state_file": str(Path(self.args.state_file).resolve())}
        if not self.args.no_demo:
            from local.demo import load_demo

            state.update(load_demo(api_url, Path(self.args.shared_data)))
        self._write_state(state)
        return state

    def _start_api(self, host: str, port: int):
        from chalice.cli import create_local_server
        from chalice.cli.factory import CLIFactory

        factory = CLIFactory(str(PROJECT_DIR), environ=os.environ)
        server = create_local_server(factory, host, port, STAGE)
        from chalicelib.settings import reset_settings

        reset_settings()  # chalice loaded the stage's environment: read it again
        _quiet_access_log(server)
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
        state_file = Path(self.args.state_file)
        if state_file.exists():
            state_file.unlink()


def _quiet_access_log(server) -> None:
    """The app's middleware already logs each request as JSON; chalice local's own stderr line is noise."""
    import functools

    from chalice.local import ChaliceRequestHandler

    class QuietHandler(ChaliceRequestHandler):
        def log_message(self, format, *args):  # noqa: A002
            pass

    partial = server.server.RequestHandlerClass
    server.server.RequestHandlerClass = functools.partial(QuietHandler, *partial.args, **partial.keywords)


def print_summary(state: dict) -> None:
    lines = [
        "",
        "Portail des cartes d'identité des élus — pile locale prête",
        f"  Site        {state['site_url']}",
        f"  API         {state['api_url']}   (OpenAPI : {state['api_url']}/openapi.json)",
        f"  Courriels   {state['outbox_dir']}   (chaque e-mail envoyé y est écrit en .eml)",
    ]
    demo = state.get("demo")
    if demo:
        operators = state["operators"]
        lines += [
            f"  Commune de démonstration : {demo['commune_name']}  SIREN {demo['siren']}  "
            f"code d'activation {demo['activation_code']}",
            f"  Fabricant  : {operators['manufacturer']['email']} / {operators['manufacturer']['password']}",
            f"  Préfecture ({operators['prefecture']['department_code']}) : {operators['prefecture']['email']} / "
            f"{operators['prefecture']['password']}",
        ]
    lines += [f"  État de la pile : {state['state_file']} — Ctrl-C pour arrêter.", ""]
    print("\n".join(lines), flush=True)


def main(argv=None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(PROJECT_DIR))
    # The emulation's request log would drown the portal's own JSON log lines.
    logging.getLogger("werkzeug").disabled = True
    stack = LocalStack(args)

    def on_signal(signum, frame):
        stack.stopped.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        state = stack.start()
        print_summary(state)
        stack.stopped.wait()
    finally:
        print("Arrêt de la pile locale…", flush=True)
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
