"""An official not yet in the national directory, on the running local stack over HTTP: declared by the town hall
with the procès-verbal, reviewed by the préfecture of the Ain, ordered once validated, linked by a later import."""
import requests

from local.demo import DEMO_PHOTOS, REFERENCE_DATA
from tests.e2e.test_local_stack_officials import Api, wait_for

PV = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def send(upload: dict, name: str, content: bytes) -> None:
    sent = requests.post(upload["url"], data=upload["fields"], files={"file": (name, content)}, timeout=60)
    assert sent.status_code in (200, 201, 204), sent.text


def declared(agent: Api, **person) -> dict:
    answer = agent("POST", "/officials/declarations", 201, json={
        "sex": "F", "birth_date": "1980-05-02", "election_date": "2026-03-22", "function": "adjoint", **person})
    send(answer["proof_upload"], "pv.pdf", PV)
    official_id = answer["official"]["id"]
    return wait_for(lambda: (lambda o: o if o["declaration"]["status"] == "pending" else None)(
        agent("GET", f"/officials/{official_id}", 200)))


def with_photo(agent: Api, official: dict) -> dict:
    upload = agent("POST", f"/officials/{official['id']}/photo-uploads", 201,
                   json={"crop": {"x": 0, "y": 0, "width": 1050, "height": 1350}})
    send(upload, "photo.jpg", (DEMO_PHOTOS / "portrait-astronaute.jpg").read_bytes())
    return wait_for(lambda: (lambda o: o if o["preview"]["status"] == "ready" else None)(
        agent("GET", f"/officials/{official['id']}", 200)))


def test_declared_validated_ordered_refused_not_ordered_then_linked_by_the_directory(stack):
    state = stack.state
    agent = Api(state["api_url"])
    agent.log_in(state["demo_agent"]["email"], state["demo_agent"]["password"])
    prefecture = Api(state["api_url"])
    prefecture.log_in_as(state["operators"]["prefecture"])
    operator = Api(state["api_url"])
    operator.log_in_as(state["operators"]["manufacturer"])

    deputy = with_photo(agent, declared(agent, last_name="Roussel", first_name="Inès"))
    other = with_photo(agent, declared(agent, last_name="Perrin", first_name="Anaïs", birth_date="1991-09-14"))
    queue = {i["last_name"]: i for i in prefecture("GET", "/prefecture/declarations", 200)["items"]}
    assert set(queue) == {"Roussel", "Perrin"}
    assert requests.get(queue["Roussel"]["proof_url"], timeout=60).content == PV

    refused_before = agent("POST", "/orders", 422, json={"official_ids": [deputy["id"]]})
    assert refused_before["details"][0]["code"] == "declaration_not_validated"
    siren = queue["Roussel"]["siren"]
    prefecture("POST", f"/prefecture/declarations/{siren}/{deputy['id']}/review", 200, json={"decision": "validate"})
    prefecture("POST", f"/prefecture/declarations/{siren}/{other['id']}/review", 200,
               json={"decision": "refuse", "reason": "Le procès-verbal est celui de 2020"})

    order = agent("POST", "/orders", 201, json={"official_ids": [deputy["id"]]})
    assert [c["last_name"] for c in order["cards"]] == ["Roussel"]
    refused = agent("POST", "/orders", 422, json={"official_ids": [other["id"]]})
    assert "Le procès-verbal est celui de 2020" in refused["details"][0]["message"]

    # A later snapshot of the directory lists Inès Roussel: the declaration is linked to it.
    row = ("01;Ain;;;01283;Oyonnax;ROUSSEL;Inès;F;02/05/1980;48;Professions intermédiaires;15/03/2026;"
           "4ème adjoint au Maire;22/03/2026;FRA\n")
    started = operator("POST", "/admin/reference-imports", 201, json={"kind": "rne_cm"})
    content = (REFERENCE_DATA / "elus-conseillers-municipaux-cm.csv").read_bytes().rstrip(b"\r\n") + b"\n"
    send(started["upload"], "elus.csv", content + row.encode())
    wait_for(lambda: operator("GET", f"/admin/reference-imports/{started['id']}", 200)["status"] == "done")
    linked = wait_for(lambda: (lambda o: o if o["declaration"]["linked_to_directory"] else None)(
        agent("GET", f"/officials/{deputy['id']}", 200)))
    assert linked["origin"] == "declared"
    assert not agent("GET", f"/officials/{other['id']}", 200)["declaration"]["linked_to_directory"]
