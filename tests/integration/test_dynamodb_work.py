"""DynamoDB work per request: the heavy paths stay at three calls at most (one read, one write, and the session or
one more), whatever the number of cards; the benchmark (`make bench`) measures every route, this keeps the worst
ones from drifting back."""
from chalicelib.store.tables import CardOrder, Token
from tests.conftest import REFERENCE_DATA
from tests.dynamodb_calls import count_dynamodb_calls
from tests.helpers import auth, commune_with_ready_officials, log_in, post_json, transition
from tests.unit import photo_corpus as corpus


def calls_of(request):
    with count_dynamodb_calls() as calls:
        response = request()
    return response, calls


def test_failed_logins_and_password_resets_cost_two_calls(client, commune):
    response, calls = calls_of(lambda: post_json(client, "/sessions", {"email": "agent@mairie-bourg.fr",
                                                                       "password": "pas le bon mot de passe"}))
    assert response.status_code == 401 and calls == ["BatchGetItem", "TransactWriteItems"], calls
    response, calls = calls_of(lambda: post_json(client, "/password-resets", {"email": "agent@mairie-bourg.fr"}))
    assert response.status_code == 202 and calls == ["BatchGetItem", "TransactWriteItems"], calls


def test_a_whole_order_lifecycle_stays_within_three_calls_a_move(client, commune, operator):
    agent, ids = commune
    response, calls = calls_of(lambda: post_json(client, "/orders", {"official_ids": ids}, agent))
    assert response.status_code == 201 and len(calls) <= 3, calls
    order_id = response.json_body["id"]
    response, calls = calls_of(lambda: post_json(client, f"/orders/{order_id}/submit",
                                                 {"preview_acknowledged": True}, agent))
    assert response.status_code == 200 and len(calls) <= 3, calls
    # Production takes the card numbers in the move's own transaction.
    response, calls = calls_of(lambda: transition(client, operator, order_id, "en_production"))
    assert response.status_code == 200 and len(calls) <= 3, calls
    assert calls[-1] == "TransactWriteItems"
    numbers = [c["card_number"] for c in response.json_body["cards"]]
    assert len(set(numbers)) == len(ids) and all(n.count("-") == 1 for n in numbers)


def test_card_numbers_never_repeat_across_orders(client, aws, operator):
    agent, ids = commune_with_ready_officials(client, aws, operator, REFERENCE_DATA, names=("MARCHAND", "GIRAUD",
                                                                                         "FONTAINE"))
    numbers = []
    for group in (ids[:1], ids[1:]):
        order = post_json(client, "/orders", {"official_ids": group}, agent).json_body
        post_json(client, f"/orders/{order['id']}/submit", {"preview_acknowledged": True}, agent)
        produced = transition(client, operator, order["id"], "en_production").json_body
        numbers += [c["card_number"] for c in produced["cards"]]
    sequence = [int(n.split("-")[1]) for n in numbers]
    assert sequence == list(range(sequence[0], sequence[0] + 3)), numbers


def test_a_move_refused_takes_no_card_number(client, commune, operator):
    agent, ids = commune
    order = post_json(client, "/orders", {"official_ids": ids}, agent).json_body
    assert transition(client, operator, order["id"], "en_production").status_code == 409  # not submitted yet
    assert not any(c.card_number for c in CardOrder.get(*order["id"].split("-", 1)).cards)


def test_photo_uploads_and_agents_stay_within_three_calls(client, commune):
    agent, ids = commune
    response, calls = calls_of(lambda: post_json(client, f"/officials/{ids[0]}/photo-uploads",
                                                 {"crop": corpus.full_crop((700, 900))}, agent))
    assert response.status_code == 201 and len(calls) <= 3, calls
    response, calls = calls_of(lambda: post_json(client, "/agents", {"email": "second@mairie-bourg.fr",
                                                                     "last_name": "Durand", "first_name": "Alix"},
                                                 agent))
    assert response.status_code == 201 and len(calls) <= 3, calls
    response, calls = calls_of(lambda: client.http.delete(f"/agents/{response.json_body['id']}",
                                                          headers=auth(agent)))
    assert response.status_code == 204 and len(calls) <= 3, calls


def test_a_removed_agents_sessions_end_through_the_revocation_mark(client, commune):
    agent, _ = commune
    invited = post_json(client, "/agents", {"email": "second@mairie-bourg.fr", "last_name": "Durand",
                                            "first_name": "Alix"}, agent).json_body
    from chalicelib.services.sessions import open_session
    from chalicelib.store.tables import Account

    second = open_session(Account.get("second@mairie-bourg.fr"))["token"]
    assert client.http.get("/me", headers=auth(second)).status_code == 200
    assert client.http.delete(f"/agents/{invited['id']}", headers=auth(agent)).status_code == 204
    assert client.http.get("/me", headers=auth(second)).status_code == 401
    mark = Token.get(f"revoked#{invited['id']}")
    assert mark.kind == "revocation"
    # The first agent is untouched.
    assert client.http.get("/me", headers=auth(agent)).status_code == 200
    assert log_in(client, "agent@mairie-bourg.fr", "une tartine de comté au petit matin")
