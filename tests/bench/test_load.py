"""`make load` in small: a few users for a few seconds on a real local stack, the check of the tables passes; then a
card number written twice into the orders table, and the same check fails (the checker is itself checked)."""
import json
import subprocess
import sys
from pathlib import Path

import boto3

from bench.load import population, run
from local.demo import ApiClient

PROJECT_DIR = Path(__file__).resolve().parents[2]


def run_check(setup_file: Path, stack_log: Path) -> tuple[int, dict]:
    """The check in its own process (it points its AWS clients at the stack's emulation: not this one's)."""
    done = subprocess.run([sys.executable, "-m", "bench.load.check", "--population", str(setup_file),
                           "--stack-log", str(stack_log)], cwd=PROJECT_DIR, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout)


def produce_one_order(state: dict) -> dict:
    """The demo's registered commune orders its two ready officials and the card maker starts production: two card
    numbers exist whatever the short run reached."""
    agent = ApiClient(state["api_url"])
    agent.log_in(state["demo_agent"]["email"], state["demo_agent"]["password"])
    ids = [o["id"] for o in agent.call("GET", "/officials", 200)["items"]]
    order = agent.call("POST", "/orders", 201, {"official_ids": ids})
    agent.call("POST", f"/orders/{order['id']}/submit", 200, {"preview_acknowledged": True})
    maker = ApiClient(state["api_url"])
    manufacturer = state["operators"]["manufacturer"]
    maker.log_in(manufacturer["email"], manufacturer["password"], manufacturer["totp_secret"])
    return maker.call("POST", f"/admin/orders/{order['id']}/transitions", 200, {"to": "en_production"})


def test_a_short_load_passes_the_check_and_a_duplicated_card_number_fails_it(tmp_path):
    (tmp_path / "stack").mkdir()
    stack = run.Stack(tmp_path / "stack")
    try:
        state = stack.start()
        # 2 card-maker agents, the demo's préfecture agent, 2 town halls (the communes are in the Ain and beyond).
        population.set_up(state, tmp_path / "data", count=4, rows_per_commune=12, prefecture_agents={"01": 1})
        setup_file = tmp_path / "data" / "population.json"
        args = run.parse_args(["--users", "5", "--spawn-rate", "5", "--run-time", "5", "--stop-timeout", "15",
                               "--out", str(tmp_path)])
        run.run_locust(args, tmp_path, setup_file)
        produced = produce_one_order(state)

        routes = {r["name"]: r for r in run.read_locust_stats(tmp_path)}
        extra = json.loads((tmp_path / "locust-extra.json").read_text())
        assert routes["Aggregated"]["requests"] > 10
        assert routes["POST /registrations"]["requests"] >= 1  # the town halls did register during the run
        assert not extra["server_errors"] and not extra["unexpected"] and not extra["no_answer"], extra
        assert (tmp_path / "locust.html").exists()

        code, result = run_check(setup_file, stack.log_path)
        assert code == 0 and result["ok"], result["problems"]
        assert result["card_numbers"] >= 2 and result["registry_records"] == result["card_numbers"]

        # The second card of the order takes the first one's number, as a lost update of the counter would.
        first, second = (card["card_number"] for card in produced["cards"])
        siren, order_id = produced["id"].split("-", 1)
        dynamodb = boto3.client("dynamodb", endpoint_url=state["aws_url"], region_name="eu-west-3",
                                aws_access_key_id="local", aws_secret_access_key="local")
        table = next(name for name in dynamodb.list_tables()["TableNames"] if name.endswith("-orders"))
        dynamodb.update_item(TableName=table, Key={"siren": {"S": siren}, "order_id": {"S": order_id}},
                             UpdateExpression="SET cards[1].card_number = :first",
                             ExpressionAttributeValues={":first": {"S": first}})

        code, result = run_check(setup_file, stack.log_path)
        assert code == 1 and not result["ok"]
        assert f"card number {first} on 2 order lines" in result["problems"]
        assert any(second in problem for problem in result["problems"])  # its number missing from the count
    finally:
        assert stack.stop() is not None
