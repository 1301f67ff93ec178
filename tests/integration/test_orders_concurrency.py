"""Concurrent moves against the emulation, with real threads: one wins, the others get a clean refusal."""
from chalicelib.domain.changes import Refused
from chalicelib.domain.orders import CardOrder as Order
from chalicelib.services import orders as service
from chalicelib.services.sessions import authenticate
from chalicelib.store.tables import CardOrder, Official
from chalicelib.wiring import collaborators
from tests.helpers import run_together

c = collaborators()


def test_fifty_parallel_orders_for_one_official_give_exactly_one(commune):
    agent, ids = commune
    principal = authenticate(agent)
    results = run_together(50, lambda i: service.create_order(c, principal, [ids[0]]))
    created = [r for r in results if isinstance(r, Order)]
    refused = [r for r in results if isinstance(r, Refused)]
    assert len(created) == 1 and len(refused) == 49
    assert {r.code for r in refused} == {"officials_not_ready"}
    orders = list(CardOrder.query("210100533"))
    assert len(orders) == 1
    assert Official.get("210100533", ids[0]).active_order_id == created[0].public_id


def test_two_agents_submitting_at_once_give_one_success_and_one_409(commune):
    agent, ids = commune
    principal = authenticate(agent)
    order = service.create_order(c, principal, ids)
    results = run_together(2, lambda i: service.submit(c, principal, order.public_id, True))
    outcomes = sorted(r.status if isinstance(r, Order) else r.code for r in results)
    assert outcomes == ["en_preparation", "invalid_transition"]
    stored = CardOrder.get("210100533", order.order_id)
    assert [h.status for h in stored.history] == ["brouillon", "en_preparation"]  # no lost or doubled update


def test_concurrent_different_moves_of_one_order_keep_one(commune, operator):
    agent, ids = commune
    principal = authenticate(agent)
    manufacturer = authenticate(operator)
    order = service.create_order(c, principal, ids)
    service.submit(c, principal, order.public_id, True)
    moves = [(principal, "annulee"), (manufacturer, "en_production"), (manufacturer, "rejetee")]

    def work(i):
        who, target = moves[i]
        return service.move(c, who, order.public_id, target, "motif")

    results = run_together(3, work)
    winners = [r for r in results if isinstance(r, Order)]
    assert len(winners) == 1 and all(isinstance(r, Refused) and r.code == "invalid_transition"
                                     for r in results if not isinstance(r, Order))
    stored = CardOrder.get("210100533", order.order_id)
    assert stored.status == winners[0].status
    assert len(stored.history) == 3
    held = {Official.get("210100533", oid).active_order_id for oid in ids}
    assert held == ({None} if stored.status in ("annulee", "rejetee") else {order.public_id})
