"""A warm process builds no AWS client: every table, every transaction and every other call goes through the clients
made once per process (chalicelib/aws.py). Building a botocore client costs more than a DynamoDB call."""
import collections

import botocore.session
import pytest

from tests.helpers import auth, directory_entry, post_json, register_official, transition


@pytest.fixture
def client_creations(monkeypatch):
    """service name -> how many botocore clients were created while the test ran (boto3's and PynamoDB's alike)."""
    created = collections.Counter()
    original = botocore.session.Session.create_client

    def counting(self, service_name, *args, **kwargs):
        created[service_name] += 1
        return original(self, service_name, *args, **kwargs)

    monkeypatch.setattr(botocore.session.Session, "create_client", counting)
    return created


def one_of_each(client, agent, operator, official_ids):
    """The writing routes the domain-model issue measured, and reads: one round, repeatable."""
    assert post_json(client, "/password-resets", {"email": "agent@mairie-bourg.fr"}).status_code == 202
    assert client.http.get("/me", headers=auth(agent)).status_code == 200
    added = register_official(client, agent, "FONTAINE", "adjoint")
    assert added.status_code == 201, added.json_body
    assert client.http.delete(f"/officials/{added.json_body['id']}", headers=auth(agent)).status_code == 204
    order = post_json(client, "/orders", {"official_ids": official_ids}, agent)
    assert order.status_code == 201, order.json_body
    submitted = post_json(client, f"/orders/{order.json_body['id']}/submit", {"preview_acknowledged": True}, agent)
    assert submitted.status_code == 200
    rejected = transition(client, operator, order.json_body["id"], "rejetee", "photo floue")  # releases them
    assert rejected.status_code == 200, rejected.json_body
    assert client.http.get("/officials", headers=auth(agent)).status_code == 200


def test_twenty_requests_on_a_warm_process_build_no_client(client, commune, operator, client_creations):
    agent, ids = commune
    directory_entry(client, agent, "FONTAINE")
    one_of_each(client, agent, operator, ids)  # the first request of each route: clients may be made here
    warm_up = dict(client_creations)
    assert all(count == 1 for count in warm_up.values()), warm_up  # one client per service, shared by all
    client_creations.clear()
    requests_made = 0
    while requests_made < 20:
        one_of_each(client, agent, operator, ids)
        requests_made += 9
    assert dict(client_creations) == {}
