"""Concurrent moves against the emulation, with real threads: one wins, the others get a clean refusal."""
from chalicelib.errors import PortalError
from chalicelib.services import orders as service
from chalicelib.services.sessions import authenticate
from chalicelib.store.tables import CardOrder, Official
from tests.helpers import run_together


def test_fifty_parallel_orders_for_one_official_give_exactly_one(commune):
    agent, ids = commune
    principal = authenticate(agent)
    results = run_together(50, lambda i: service.create_order(principal, [ids[0]]))
    created = [r for r in results if isinstance(r, dict)]
    refused = [r for r in results if isinstance(r, PortalError)]
    assert len(created) == 1 and len(refused) == 49
    assert {r.status for r in refused} == {422} and {r.code for r in refused} == {"officials_not_ready"}
    orders = list(CardOrder.query("210100533"))
    assert len(orders) == 1
    assert Official.get("210100533", ids[0]).active_order_id == created[0]["id"]


def test_two_agents_submitting_at_once_give_one_success_and_one_409(commune):
    agent, ids = commune
    principal = authenticate(agent)
    order = service.create_order(principal, ids)
    results = run_together(2, lambda i: service.submit(principal, order["id"], True))
    outcomes = sorted(r["status"] if isinstance(r, dict) else str(r.status) for r in results)
    assert outcomes == ["409", "en_preparation"]
    stored = CardOrder.get("210100533", order["id"].split("-", 1)[1])
    assert [h.status for h in stored.history] == ["brouillon", "en_preparation"]  # no lost or doubled update


def test_concurrent_different_moves_of_one_order_keep_one(commune, operator):
    agent, ids = commune
    principal = authenticate(agent)
    manufacturer = authenticate(operator)
    order = service.create_order(principal, ids)
    service.submit(principal, order["id"], True)
    moves = [(principal, "annulee"), (manufacturer, "en_production"), (manufacturer, "rejetee")]

    def work(i):
        who, target = moves[i]
        return service.move(who, order["id"], target, "motif")

    results = run_together(3, work)
    winners = [r for r in results if isinstance(r, dict)]
    assert len(winners) == 1 and all(isinstance(r, PortalError) and r.status == 409
                                     for r in results if not isinstance(r, dict))
    stored = CardOrder.get("210100533", order["id"].split("-", 1)[1])
    assert stored.status == winners[0]["status"]
    assert len(stored.history) == 3
    held = {Official.get("210100533", oid).active_order_id for oid in ids}
    assert held == ({None} if stored.status in ("annulee", "rejetee") else {order["id"]})
