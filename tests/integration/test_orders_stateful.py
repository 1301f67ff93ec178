"""Property-based test of the order lifecycle: random moves by random roles, invariants checked after each step."""
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from chalicelib.domain import orders as lifecycle
from chalicelib.domain.changes import Refused
from chalicelib.services import orders as service
from chalicelib.services.sessions import authenticate
from chalicelib.store.tables import CardOrder, Official, RegisteredCard
from tests.conftest import REFERENCE_DATA
from chalicelib.wiring import collaborators
from tests.helpers import OPERATOR_TOTP_SECRET, commune_with_ready_officials, load_reference_data, log_in

c = collaborators()

SIREN = "210100533"


@pytest.fixture
def actors(client, aws):
    from tests.helpers import create_operator

    operator = load_reference_data(client, REFERENCE_DATA)
    agent, ids = commune_with_ready_officials(client, aws, operator, REFERENCE_DATA)
    create_operator("guichet@ain.gouv.fr", "Paula", "Préfète", "prefecture", "01", password="le guichet de l'Ain ouvre")
    prefecture = log_in(client, "guichet@ain.gouv.fr", "le guichet de l'Ain ouvre", OPERATOR_TOTP_SECRET)
    principals = {"commune": authenticate(agent), "manufacturer": authenticate(operator),
                  "prefecture": authenticate(prefecture)}
    return principals, ids


def test_random_moves_keep_the_lifecycle_invariants(actors, monkeypatch):
    principals, official_ids = actors
    # Emails are tested elsewhere; here they would only slow every step down.
    from chalicelib.services import notifications

    monkeypatch.setattr(notifications, "order_moved", lambda order, reason, agent_emails: None)

    class Lifecycle(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.orders: list[str] = []
            self.moves_done = 0

        # Once a card is handed over, a new one needs a reason that replaces it: mostly one is given.
        @rule(officials=st.lists(st.sampled_from(official_ids), min_size=1, max_size=2, unique=True),
              reason=st.sampled_from(["changement_de_fonction", None, "deterioration"]))
        def create(self, officials, reason):
            try:
                order = service.create_order(c, principals["commune"], officials, {o: reason for o in officials})
            except Refused as error:
                stored = [Official.get(SIREN, oid) for oid in officials]
                if error.code == "card_already_issued":
                    assert reason is None and any(o.held_card_status == "remise" for o in stored)
                    return
                assert error.code == "officials_not_ready"
                assert any(o.active_order_id for o in stored), "refused although every official was free"
                return
            self.orders.append(order.public_id)

        @precondition(lambda self: self.orders)
        @rule(data=st.data(), role=st.sampled_from(["commune", "manufacturer", "prefecture"]),
              to=st.sampled_from(lifecycle.STATUSES), with_reason=st.booleans())
        def move(self, data, role, to, with_reason):
            if not self.orders:
                return
            Lifecycle._move(self, data, role, to, with_reason, data.draw(st.sampled_from(self.orders)))

        def _move(self, data, role, target, with_reason, order_id):
            principal = principals[role]
            before = service.load(c, principal, order_id)
            allowed = target in lifecycle.allowed_moves(before.status, role)
            needs_reason = lifecycle.MOVES.get(target) and lifecycle.MOVES[target].reason_required
            try:
                if role == "commune" and target == lifecycle.EN_PREPARATION:
                    result = service.submit(c, principal, order_id, True)
                else:
                    result = service.move(c, principal, order_id, target, "photo non conforme" if with_reason else None)
            except Refused as error:
                assert not allowed or (needs_reason and not with_reason), (before.status, role, target, error.code)
                after = service.load(c, principal, order_id)
                assert after.status == before.status and len(after.history) == len(before.history)
                return
            assert allowed, (before.status, role, target)
            assert result.status == target
            self.moves_done += 1

        @precondition(lambda self: self.orders)
        @rule(data=st.data())
        def allowed_move(self, data):
            """Random moves are mostly refused; this rule walks orders down the lifecycle too."""
            if not self.orders:
                return
            order_id = data.draw(st.sampled_from(self.orders))
            status = service.load(c, principals["manufacturer"], order_id).status
            choices = [(role, to) for role in principals for to in lifecycle.allowed_moves(status, role)]
            if not choices:
                return
            role, to = data.draw(st.sampled_from(choices))
            Lifecycle._move(self, data, role, to, True, order_id)

        @invariant()
        def histories_follow_the_lifecycle(self):
            for order in CardOrder.query(SIREN):
                steps = [h.status for h in order.history]
                assert steps[0] == lifecycle.BROUILLON and steps[-1] == order.status
                for (source, entry) in zip(steps, order.history[1:]):
                    move = lifecycle.MOVES[entry.status]
                    assert source in move.sources and entry.by_role == move.role
                    assert not move.reason_required or entry.reason

        @invariant()
        def the_registry_follows_the_orders(self):
            """Each numbered card has its record, whose status follows its order's; an official's held card is
            their latest one handed over."""
            following = {lifecycle.EN_PRODUCTION: {"en_fabrication"}, lifecycle.EN_LIVRAISON: {"en_fabrication"},
                         lifecycle.LIVREE: {"livree"}, lifecycle.REJETEE: {"detruite"},
                         lifecycle.REMISE: {"remise", "a_restituer"}}
            for order in CardOrder.query(SIREN):
                for card in order.cards:
                    if not card.card_number:
                        assert order.status in (lifecycle.BROUILLON, lifecycle.EN_PREPARATION, lifecycle.ANNULEE,
                                                lifecycle.REJETEE)
                        continue
                    record = RegisteredCard.get(card.card_number)
                    assert record.status in following[order.status], (order.status, record.status)
                    assert record.order_id == f"{order.siren}-{order.order_id}"

        @invariant()
        def each_official_is_held_by_at_most_its_one_open_order(self):
            open_orders: dict[str, list[str]] = {}
            for order in CardOrder.query(SIREN):
                if order.status not in lifecycle.FINAL:
                    for card in order.cards:
                        open_orders.setdefault(card.official_id, []).append(f"{order.siren}-{order.order_id}")
            for official_id in official_ids:
                holders = open_orders.get(official_id, [])
                assert len(holders) <= 1
                assert Official.get(SIREN, official_id).active_order_id == (holders[0] if holders else None)

        def teardown(self):
            moves_done.append(self.moves_done)
            # Close what is open so that the next example starts with free officials.
            for order in CardOrder.query(SIREN):
                order_id = f"{order.siren}-{order.order_id}"
                if order.status in (lifecycle.BROUILLON, lifecycle.EN_PREPARATION):
                    service.move(c, principals["commune"], order_id, lifecycle.ANNULEE, None)
                elif order.status == lifecycle.EN_PRODUCTION:
                    service.move(c, principals["manufacturer"], order_id, lifecycle.REJETEE, "fin de l'exemple")
                elif order.status == lifecycle.EN_LIVRAISON:
                    service.move(c, principals["prefecture"], order_id, lifecycle.LIVREE, None)
                    service.move(c, principals["prefecture"], order_id, lifecycle.REMISE, None)
                elif order.status == lifecycle.LIVREE:
                    service.move(c, principals["prefecture"], order_id, lifecycle.REMISE, None)

    moves_done: list[int] = []
    run_state_machine_as_test(Lifecycle, settings=settings(
        max_examples=10, stateful_step_count=25, deadline=None, derandomize=True,
        suppress_health_check=list(HealthCheck)))
    assert sum(moves_done) >= 20, moves_done  # the lifecycle was really walked, not only refused
