"""`make load`: the load test on a fresh local stack, its report in var/load/, and the check of the tables.

    python -m bench.load [--users 60] [--spawn-rate 5] [--run-time 150] [--out var/load]

1. starts the local stack (``bench.load.observed_stack``: ``local.stack`` with counters) on free ports of 127.0.0.1,
   its state file, outbox and log in ``<out>/stack/``;
2. sets up the population through the API (``population.set_up``): generated communes and directory, préfecture
   agents, activation codes;
3. runs locust headless (``locustfile.py``) against the stack's API for ``--run-time`` seconds, ``--users`` users
   (2 card-maker agents, one user per préfecture agent, the others town halls), then lets each user end its task
   (``--stop-timeout``); locust writes ``<out>/locust_stats.csv`` (and its other CSV files) and ``<out>/locust.html``;
4. reads the tables (``check``) and the stack's counters, stops the stack, writes ``<out>/report.json`` and prints
   a summary.

Exits 1 when the check of the tables finds a problem, when any request got a server error (5xx) or an answer the
scenario does not expect, or when nothing was ordered; 0 otherwise. Every address used is 127.0.0.1; the stack is
stopped whatever happens (SIGTERM, then SIGKILL of its process group).
"""
import argparse
import csv
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from . import check, population

PROJECT_DIR = Path(__file__).resolve().parents[2]
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=60, help="simulated users at once (default 60)")
    parser.add_argument("--spawn-rate", type=float, default=1, help="users started per second (default 1)")
    parser.add_argument("--run-time", type=int, default=240, help="seconds of load (default 240)")
    parser.add_argument("--stop-timeout", type=int, default=30, help="seconds for the users to end their task")
    parser.add_argument("--rows-per-commune", type=int, default=19, help="directory rows of each simulated commune")
    parser.add_argument("--out", default=str(PROJECT_DIR / "var" / "load"))
    return parser.parse_args(argv)


# --- the stack -----------------------------------------------------------------------------------------------------

class Stack:
    def __init__(self, folder: Path):
        self.folder = folder
        self.state_file = folder / "local-stack.json"
        self.stats_file = folder / "stack-stats.json"
        self.log_path = folder / "stack.log"
        self.process = None
        self.state = None

    def start(self, timeout: float = 180) -> dict:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bench.load.observed_stack", "--stats-file", str(self.stats_file), "--",
                 "--host", "127.0.0.1", "--free-ports", "--state-file", str(self.state_file),
                 "--outbox", str(self.folder / "outbox")],
                cwd=PROJECT_DIR, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("the local stack stopped:\n" + self.log_tail())
            try:
                state = json.loads(self.state_file.read_text())
            except (OSError, ValueError):
                state = None
            if state and state.get("pid") == self.process.pid:
                self.state = state
                return state
            time.sleep(0.2)
        raise RuntimeError("the local stack did not start:\n" + self.log_tail())

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:] if self.log_path.exists() else ""

    def signal(self, signum: int) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signum)

    def stats_now(self, timeout: float = 10) -> dict:
        """The stack's counters as of now (SIGUSR2 makes it write them)."""
        asked = time.time()
        self.signal(signal.SIGUSR2)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                stats = json.loads(self.stats_file.read_text())
                if stats["written_at"] >= asked:
                    return stats
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.1)
        raise RuntimeError("the stack did not write its counters")

    def stop(self) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        return self.process.wait(timeout=10)


# --- locust --------------------------------------------------------------------------------------------------------

def listen_overflows() -> dict:
    """The kernel's count of connections refused because a listening socket's queue was full (whole machine)."""
    try:
        lines = Path("/proc/net/netstat").read_text().splitlines()
    except OSError:
        return {}
    for names, values in zip(lines[::2], lines[1::2]):
        if names.startswith("TcpExt:"):
            table = dict(zip(names.split()[1:], values.split()[1:]))
            return {k: int(table[k]) for k in ("ListenOverflows", "ListenDrops") if k in table}
    return {}


def run_locust(args, out: Path, setup_file: Path) -> dict:
    environment = {**os.environ, "LOAD_POPULATION": str(setup_file), "LOAD_EXTRA": str(out / "locust-extra.json")}
    environment.pop("AWS_ENDPOINT_URL", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    overflows = listen_overflows()
    started = time.time()
    with (out / "locust.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--users", str(args.users),
             "--spawn-rate", str(args.spawn_rate), "--run-time", f"{args.run_time}s",
             "--stop-timeout", str(args.stop_timeout), "--csv", str(out / "locust"), "--html",
             str(out / "locust.html"), "--only-summary", "--loglevel", "WARNING"],
            cwd=PROJECT_DIR, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            code = process.wait(timeout=args.run_time + args.stop_timeout + 120)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            code = process.wait()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    overflows = {k: v - overflows.get(k, 0) for k, v in listen_overflows().items()}
    return {"exit_code": code, "seconds": round(time.time() - started, 1),
            "cpu_seconds": round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 1),
            "listen_overflows_on_the_machine": overflows}


def read_locust_stats(out: Path) -> list[dict]:
    path = out / "locust_stats.csv"
    if not path.exists():
        return []
    rows = []
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            rows.append({"type": row["Type"], "name": row["Name"], "requests": int(row["Request Count"]),
                         "failures": int(row["Failure Count"]), "rps": float(row["Requests/s"]),
                         "p50_ms": _ms(row["50%"]), "p95_ms": _ms(row["95%"]), "p99_ms": _ms(row["99%"]),
                         "max_ms": _ms(row["Max Response Time"]), "mean_ms": _ms(row["Average Response Time"])})
    return rows


def _ms(text: str):
    try:
        return round(float(text), 1)
    except ValueError:
        return None


# --- the popular département's index -------------------------------------------------------------------------------

def department_partitions(tables: dict, ledger: list[dict], sirens: set[str]) -> dict:
    """Writes into the ``<département>#<status>`` index partitions (orders and card registry), per département:
    each order move changes its order's key there, and the key of each of its cards in the registry's index."""
    department_of = {o["id"]: o["department_code"] for o in tables["orders"]}
    cards_of = {o["id"]: sum(1 for c in o["cards"] if c["card_number"]) for o in tables["orders"]}
    per_second: dict[str, Counter] = defaultdict(Counter)
    totals: Counter = Counter()
    for entry in ledger:
        if entry["kind"] not in ("moved", "order_created", "handed_over") or entry["order"] not in department_of:
            continue
        department = department_of[entry["order"]]
        writes = 1 + (cards_of[entry["order"]] if entry["kind"] == "moved" and entry["to"] in (
            "en_production", "livree", "remise") else 1 if entry["kind"] == "handed_over" else 0)
        per_second[department][int(entry["t"])] += writes
        totals[department] += writes
    return {department: {"index_writes": totals[department],
                         "peak_per_second": max(per_second[department].values()),
                         "orders": sum(1 for o in tables["orders"] if o["department_code"] == department
                                       and o["siren"] in sirens)}
            for department in sorted(totals)}


def hot_keys(report: dict, ledger: list[dict]) -> dict:
    """The three hot keys, from the stack's counters, the ledger and locust's figures (``report`` so far)."""
    stack, routes = report.get("stack", {}), {r["name"]: r for r in report.get("routes", [])}
    productions = [entry for entry in ledger if entry["kind"] == "moved" and entry["to"] == "en_production"]
    per_second = Counter(int(entry["t"]) for entry in productions)
    counter = stack.get("card_number_counter", {})
    conflicts = report.get("extra", {}).get("conflicts", {})
    return {
        "card_number_counter": {
            "item": "counters: card-number#<year> (services/orders.move, CardNumbers.take)",
            "productions_answered": len(productions), "peak_productions_per_second": max(per_second.values(), default=0),
            "numbers_taken": report.get("check", {}).get("counters"),
            "dynamodb_calls": counter.get("calls"), "conditions_refused": counter.get("refused"),
            # services/orders.move retries only when the counter alone refused (Conflict.index == 1)
            "refused_with": (stack.get("conditional_check_failed") or {}).get("transactions_by_refused_items"),
            "route": routes.get("POST /admin/orders/[id]/transitions (en_production)"),
            "answered_409": {k: v for k, v in conflicts.items() if "en_production" in k},
        },
        "department_index": {
            "partitions": "orders and cards by_department_status: <département>#<status>",
            "writes_by_department": report.get("departments"),
            "queries": {name: {k: r[k] for k in ("requests", "p50_ms", "p95_ms", "p99_ms")}
                        for name, r in routes.items() if name.startswith("GET /admin/orders?status=")},
        },
        "audit_log": {**stack.get("audit_log", {}),
                      "order_moved_checked_against_histories": report.get("check", {}).get("audit_order_moved")},
        "other_refused_conditions": stack.get("conditional_check_failed"),
    }


# --- the whole run -------------------------------------------------------------------------------------------------

def main(argv=None) -> int:
    args = parse_args(argv)
    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    (out / "stack").mkdir(parents=True)
    stack = Stack(out / "stack")
    ledger: list[dict] = []
    report: dict = {"command": "make load", "arguments": vars(args), "started_at": time.strftime(
        "%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "load_average_before": os.getloadavg()}
    try:
        state = stack.start()
        if not all(state[url].startswith("http://127.0.0.1:") for url in ("api_url", "aws_url")):
            raise RuntimeError(f"the stack does not serve on 127.0.0.1: {state['api_url']}, {state['aws_url']}")
        print(f"Pile locale prête ({state['api_url']}) ; mise en place de la population…", flush=True)
        setup_started = time.monotonic()
        setup = population.set_up(state, out / "data", args.users, args.rows_per_commune)
        report["setup_seconds"] = round(time.monotonic() - setup_started, 1)
        stack.signal(signal.SIGUSR1)  # the stack's counters start with the run
        print(f"Charge : {args.users} utilisateurs pendant {args.run_time} s (locust)…", flush=True)
        report["locust"] = run_locust(args, out, out / "data" / "population.json")
        report["stack"] = stack.stats_now()
        report["load_average_after"] = os.getloadavg()
        check.connect(state["aws_url"])
        tables = check.read_tables()
        ledger[:] = check.read_ledger(Path(setup["ledger"]))
        sirens = {c["siren"] for c in setup["communes"]}
        report["check"] = check.verify(tables, ledger, sirens, check.audit_moves(stack.log_path))
        report["departments"] = department_partitions(tables, ledger, sirens)
    finally:
        report["stack_exit_code"] = stack.stop()
    report["routes"] = read_locust_stats(out)
    extra_file = out / "locust-extra.json"
    report["extra"] = json.loads(extra_file.read_text()) if extra_file.exists() else {}
    report["stack_log_errors"] = _log_errors(stack.log_path)
    report["hot_keys"] = hot_keys(report, ledger)
    report["verdict"] = verdict(report)
    (out / "report.json").write_text(json.dumps(report, indent=1, ensure_ascii=False))
    print_summary(report, out)
    return 0 if report["verdict"]["ok"] else 1


def _log_errors(log_path: Path) -> list[str]:
    """ERROR lines of the stack's JSON log (a handler that failed, an unexpected exception)."""
    found = []
    if log_path.exists():
        for line in log_path.read_text(errors="replace").splitlines():
            if line.startswith("{") and '"level": "ERROR"' in line:
                found.append(line[:300])
    return found


def verdict(report: dict) -> dict:
    extra = report.get("extra", {})
    reasons = []
    if not report.get("check", {}).get("ok"):
        reasons.append(f"check of the tables: {report.get('check', {}).get('problem_count')} problems")
    if sum(extra.get("server_errors", {}).values()):
        reasons.append(f"server errors: {extra['server_errors']}")
    if sum(extra.get("unexpected", {}).values()):
        reasons.append(f"unexpected answers: {extra['unexpected']}")
    if sum(extra.get("no_answer", {}).values()):
        reasons.append(f"requests without an answer: {extra['no_answer']}")
    if report.get("stack_log_errors"):
        reasons.append(f"{len(report['stack_log_errors'])} ERROR lines in the stack's log")
    if not report.get("check", {}).get("orders_answered_201"):
        reasons.append("no order was made")
    return {"ok": not reasons, "reasons": reasons}


def print_summary(report: dict, out: Path) -> None:
    routes = report.get("routes", [])
    total = next((r for r in routes if r["name"] == "Aggregated"), None)
    print()
    if total:
        print(f"{total['requests']} requêtes, {total['rps']:.1f}/s, {total['failures']} échecs ; "
              f"p50 {total['p50_ms']} ms, p95 {total['p95_ms']} ms, p99 {total['p99_ms']} ms")
    for r in routes:
        if r["name"] != "Aggregated":
            print(f"  {r['type']:5} {r['name'][:62]:62} {r['requests']:6} {r['failures']:3} "
                  f"p50 {r['p50_ms']:>7} p95 {r['p95_ms']:>7} p99 {r['p99_ms']:>7}")
    result = report.get("check", {})
    print(f"Vérification des tables : {'OK' if result.get('ok') else 'ÉCHEC'} — {result.get('orders')} demandes, "
          f"{result.get('card_numbers')} numéros de carte, {result.get('registry_records')} cartes au registre")
    for problem in result.get("problems", [])[:20]:
        print("  -", problem)
    hot = report.get("hot_keys", {})
    counter = hot.get("card_number_counter", {})
    if counter:
        print(f"Compteur des numéros : {counter['productions_answered']} mises en production, "
              f"{counter['conditions_refused']} conditions du compteur refusées ({counter['refused_with']})")
    audit = hot.get("audit_log", {})
    if audit:
        print(f"Journal d'audit : {audit.get('total')} enregistrements, au plus {audit.get('peak_per_second')}/s")
    stack = report.get("stack", {})
    if stack:
        print(f"Pile : {stack['cpu_share_of_one_core']} cœur en moyenne ; verrou DynamoDB de l'émulation : attente "
              f"p95 {stack['emulation_lock']['wait'].get('p95_ms')} ms")
    for reason in report["verdict"]["reasons"]:
        print("ÉCHEC :", reason)
    print(f"Rapport : {out / 'report.json'} ; locust : {out / 'locust.html'}, {out / 'locust_stats.csv'}")


if __name__ == "__main__":
    sys.exit(main())
