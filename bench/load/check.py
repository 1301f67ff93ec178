"""After the run: the tables, read through the emulation's DynamoDB endpoint, against what the users were answered.

``read_tables`` takes a snapshot of the orders, the card registry and the card-number counters (Scan: a checker's
read, never the portal's); ``verify`` compares it with the users' ledger (``locustfile.record``) and the stack's audit
log, and lists every problem found. What must hold:

1. every order the users were answered ``201`` for is in the table, once; any other order of the simulated communes
   comes from a creation that got no answer (stopped or broken request), and there are no more of them than such
   requests; no official is in two orders (the load never orders an official twice);
2. each order's status is the furthest move the users were answered ``200`` for (or that the cards handed over one
   by one make it), and its history holds each status once, in the lifecycle's order: no lost or doubled move;
3. card numbers: no number on two order lines; for each year the numbers given are exactly 1 to the counter's count
   (contiguous); the numbers a move's answer gave are those of the table;
4. the registry: every card record belongs to exactly one order line (same order, same official), every numbered
   line has its record, and the record's status follows the order's (in production, delivered, handed over);
5. the audit log holds one ``order_moved`` record per entry of each order's history.

A write that got no answer makes its order "uncertain": points 2 and 4 accept either outcome there.
"""
import json
from collections import Counter, defaultdict
from pathlib import Path

RANK = {status: rank for rank, status in enumerate(
    ("brouillon", "en_preparation", "en_production", "en_livraison", "livree", "remise_partielle", "remise"))}
CARD_STATUS_OF_ORDER = {"en_production": "en_fabrication", "en_livraison": "en_fabrication", "livree": "livree"}


def connect(aws_url: str) -> None:
    """Point this process's AWS clients at the stack's emulation (as the stack's own process is)."""
    from chalicelib.aws import reset_settings_and_clients
    from local.stack import prepare_environment

    prepare_environment(aws_url, "http://127.0.0.1", "")
    reset_settings_and_clients()


def read_tables() -> dict:
    from chalicelib.store.tables import CardOrder, RegisteredCard
    from chalicelib.store.tables import Counter as CounterItem

    orders = [{"id": f"{o.siren}-{o.order_id}", "siren": o.siren, "status": o.status,
               "department_code": o.department_code,
               "cards": [{"official_id": c.official_id, "card_number": c.card_number,
                          "handed_over": c.handed_over_at is not None} for c in o.cards],
               "history": [h.status for h in o.history]}
              for o in CardOrder.scan(consistent_read=True)]
    cards = [{"card_number": c.card_number, "order_id": c.order_id, "official_id": c.official_id,
              "status": c.status} for c in RegisteredCard.scan(consistent_read=True)]
    counters = {item.key: int(item.count or 0) for item in CounterItem.scan(consistent_read=True)
                if item.key.startswith("card-number#")}
    return {"orders": orders, "cards": cards, "counters": counters}


def read_ledger(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def audit_moves(stack_log: Path) -> Counter:
    """``order_moved`` audit records by order, from the stack's JSON log lines."""
    moves = Counter()
    if not stack_log.exists():
        return moves
    with stack_log.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if '"portal.audit"' not in line or '"order_moved"' not in line:
                continue
            try:
                entry = json.loads(line[line.index("{"):])
            except ValueError:
                continue
            if entry.get("event") == "order_moved":
                moves[entry["order"]] += 1
    return moves


def _order_of_path(path: str) -> str | None:
    parts = path.split("/")
    if len(parts) > 2 and parts[1] in ("orders", "admin") and "orders" in parts:
        return parts[parts.index("orders") + 1] if parts.index("orders") + 1 < len(parts) else None
    return None


def verify(tables: dict, ledger: list[dict], sirens: set[str], audit: Counter | None = None) -> dict:
    """The problems found (empty: the check passes) and what was checked."""
    problems: list[str] = []
    answered = {entry["id"] for entry in ledger if entry["kind"] == "answered"}
    unanswered = [entry for entry in ledger if entry["kind"] == "sent" and entry["id"] not in answered]
    uncertain_orders = {order for entry in unanswered if (order := _order_of_path(entry["path"]))}
    unanswered_creations = sum(1 for entry in unanswered if (entry["method"], entry["path"]) == ("POST", "/orders"))
    uncertain_cards = {entry["path"].split("/")[3] for entry in unanswered if entry["path"].startswith("/admin/cards/")}

    orders = [o for o in tables["orders"] if o["siren"] in sirens]
    by_id = {}
    for order in orders:
        if order["id"] in by_id:
            problems.append(f"order {order['id']} twice in the table")
        by_id[order["id"]] = order
    created = [entry["order"] for entry in ledger if entry["kind"] == "order_created"]
    for order_id, times in Counter(created).items():
        if times > 1:
            problems.append(f"order {order_id} answered 201 {times} times")
    missing = [order_id for order_id in created if order_id not in by_id]
    problems += [f"order {order_id} answered 201 but not in the table" for order_id in missing]
    extra = [order_id for order_id in by_id if order_id not in set(created)]
    if len(extra) > unanswered_creations:
        problems.append(f"{len(extra)} orders in the table that no user was answered for (only "
                        f"{unanswered_creations} creations without an answer): {extra[:5]}")
    uncertain_orders |= set(extra)
    uncertain_orders |= {order["id"] for order in orders
                         if {c["card_number"] for c in order["cards"]} & uncertain_cards}

    officials = Counter((o["siren"], c["official_id"]) for o in orders for c in o["cards"])
    problems += [f"official {siren}/{official} in {n} orders" for (siren, official), n in officials.items() if n > 1]

    # 2. statuses and histories
    reached: dict[str, int] = defaultdict(int)
    handed: dict[str, set] = defaultdict(set)
    for entry in ledger:
        if entry["kind"] == "order_created":
            reached[entry["order"]] = max(reached[entry["order"]], RANK["brouillon"])
        elif entry["kind"] == "moved":
            reached[entry["order"]] = max(reached[entry["order"]], RANK[entry["to"]])
        elif entry["kind"] == "handed_over":
            handed[entry["order"]].add(entry["card"])
    for order_id, order in by_id.items():
        history = order["history"]
        if [RANK[s] for s in history] != sorted({RANK[s] for s in history}):
            problems.append(f"order {order_id}: history {history} has a status twice or out of order")
        if order_id in uncertain_orders:
            continue
        numbered = {c["card_number"] for c in order["cards"] if c["card_number"]}
        expected = reached.get(order_id, 0)
        if handed[order_id] and expected < RANK["remise"]:
            expected = RANK["remise"] if handed[order_id] >= numbered else RANK["remise_partielle"]
        if RANK[order["status"]] != expected:
            problems.append(f"order {order_id}: status {order['status']} in the table, the users were answered "
                            f"{[s for s, r in RANK.items() if r == expected]}")
        for status, rank in RANK.items():
            if rank <= expected and status not in history and status != "remise_partielle" and rank:
                problems.append(f"order {order_id}: move to {status} answered but not in its history {history}")
        seen_handed = {c["card_number"] for c in order["cards"] if c["handed_over"]}
        wanted_handed = numbered if order["status"] == "remise" else handed[order_id]
        if seen_handed != wanted_handed and not (seen_handed ^ wanted_handed) <= uncertain_cards:
            problems.append(f"order {order_id}: cards handed over {sorted(seen_handed)}, answered "
                            f"{sorted(wanted_handed)}")

    # 3. card numbers
    lines = Counter(c["card_number"] for o in tables["orders"] for c in o["cards"] if c["card_number"])
    problems += [f"card number {number} on {n} order lines" for number, n in lines.items() if n > 1]
    by_year: dict[str, set] = defaultdict(set)
    for number in lines:
        year, _, sequence = number.partition("-")
        by_year[year].add(int(sequence))
    for key, count in tables["counters"].items():
        year = key.rpartition("#")[2]
        given = by_year.pop(year, set())
        if given != set(range(1, count + 1)):
            gaps = sorted(set(range(1, count + 1)) - given)[:5]
            beyond = sorted(n for n in given if n > count)[:5]
            problems.append(f"card numbers of {year}: {len(given)} on order lines, counter at {count} "
                            f"(missing {gaps}, beyond the counter {beyond})")
    problems += [f"card numbers of {year} without a counter" for year in by_year]
    for entry in ledger:
        if entry["kind"] == "moved" and entry.get("numbers") and entry["order"] in by_id:
            table_numbers = {c["card_number"] for c in by_id[entry["order"]]["cards"] if c["card_number"]}
            if set(entry["numbers"]) != table_numbers:
                problems.append(f"order {entry['order']}: answered numbers {entry['numbers']}, table "
                                f"{sorted(table_numbers)}")

    # 4. the registry
    line_of = {}
    for order in tables["orders"]:
        for card in order["cards"]:
            if card["card_number"]:
                line_of[card["card_number"]] = (order, card)
    records = Counter(card["card_number"] for card in tables["cards"])
    problems += [f"card {number}: {n} registry records" for number, n in records.items() if n > 1]
    for record in tables["cards"]:
        found = line_of.get(record["card_number"])
        if found is None:
            problems.append(f"card {record['card_number']} in the registry belongs to no order line")
            continue
        order, line = found
        if (record["order_id"], record["official_id"]) != (order["id"], line["official_id"]):
            problems.append(f"card {record['card_number']}: registry says {record['order_id']}/"
                            f"{record['official_id']}, the order line {order['id']}/{line['official_id']}")
        if order["id"] in uncertain_orders or record["card_number"] in uncertain_cards:
            continue
        wanted = "remise" if line["handed_over"] else CARD_STATUS_OF_ORDER.get(order["status"],
                                                                              "livree" if order["status"].startswith(
                                                                                  "remise") else None)
        if wanted and record["status"] != wanted:
            problems.append(f"card {record['card_number']}: {record['status']} in the registry, its order "
                            f"{order['status']} (card handed over: {line['handed_over']})")
    problems += [f"card {number} on an order line has no registry record" for number in line_of
                 if number not in records]

    # 5. the audit log
    if audit is not None:
        for order_id, order in by_id.items():
            if audit[order_id] != len(order["history"]) and order_id not in uncertain_orders:
                problems.append(f"order {order_id}: {audit[order_id]} order_moved audit records for "
                                f"{len(order['history'])} history entries")

    statuses = Counter(o["status"] for o in orders)
    return {
        "ok": not problems, "problems": problems[:50], "problem_count": len(problems),
        "orders": len(orders), "orders_answered_201": len(created), "orders_by_status": dict(statuses),
        "orders_uncertain": len(uncertain_orders), "writes_without_answer": len(unanswered),
        "card_numbers": len(lines), "registry_records": len(tables["cards"]), "counters": tables["counters"],
        "cards_handed_over": sum(c["handed_over"] for o in orders for c in o["cards"]),
        "audit_order_moved": sum(audit.values()) if audit is not None else None,
    }


def main(argv=None) -> int:
    """``python -m bench.load.check --population <out>/data/population.json --stack-log <out>/stack/stack.log``:
    the check alone, on a stack still running (its emulation's address is in the population file); prints the
    result as JSON, exits 1 when a problem is found."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m bench.load.check")
    parser.add_argument("--population", required=True)
    parser.add_argument("--stack-log")
    args = parser.parse_args(argv)
    setup = json.loads(Path(args.population).read_text())
    connect(setup["aws_url"])
    result = verify(read_tables(), read_ledger(Path(setup["ledger"])), {c["siren"] for c in setup["communes"]},
                    audit_moves(Path(args.stack_log)) if args.stack_log else None)
    json.dump(result, sys.stdout, indent=1, ensure_ascii=False)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
