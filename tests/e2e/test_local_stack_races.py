"""Requests that race on the running local stack, sent at the same moment over HTTP as two browsers would."""
import time
from pathlib import Path

import requests

from local.demo import DEMO_PHOTOS, link_token
from tests.e2e.test_local_stack_officials import Api, wait_for
from tests.helpers import run_together

ANNECY = "200063402"
TRIALS = 20


def annecy_agent(state: dict) -> Api:
    """Annecy registered by its agent (the demo loads the directory; BOUVIER is there as deputy and delegated mayor)."""
    operator = Api(state["api_url"])
    operator.log_in_as(state["operators"]["manufacturer"])
    code = operator("POST", f"/admin/communes/{ANNECY}/activation-code", 201)["activation_code"]
    agent = Api(state["api_url"])
    email = "elus@mairie-annecy.example.fr"
    agent("POST", "/registrations", 201, json={"siren": ANNECY, "activation_code": code, "last_name": "Lac",
                                               "first_name": "Léa", "email": email})
    agent("POST", "/password", 204, json={"token": link_token(Path(state["outbox_dir"]), email),
                                          "password": "le pont des Amours au printemps"})
    agent.log_in(email, "le pont des Amours au printemps")
    return agent


def test_a_function_change_and_an_order_sent_together_one_goes_through_and_the_card_is_right(stack):
    state = stack.state
    agent = annecy_agent(state)
    entry, = agent("GET", "/directory?q=BOUVIER", 200)["items"]
    official = agent("POST", "/officials", 201, json={"directory_id": entry["id"], "function": "adjoint"})
    photo = DEMO_PHOTOS / "portrait-astronaute.jpg"
    upload = agent("POST", f"/officials/{official['id']}/photo-uploads", 201,
                   json={"crop": {"x": 0, "y": 0, "width": 1050, "height": 1350}})
    requests.post(upload["url"], data=upload["fields"], files={"file": (photo.name, photo.read_bytes(), "image/jpeg")},
                  timeout=60).raise_for_status()
    url, headers = state["api_url"], dict(agent.session.headers)
    outcomes: list[tuple[int, int]] = []
    for trial in range(TRIALS):
        current = wait_for(lambda: (lambda o: o if o["photo"]["status"] == "ready" and o["preview"]["status"] == "ready"
                                    else None)(agent("GET", f"/officials/{official['id']}", 200)))
        other = "maire_delegue" if current["function"] == "adjoint" else "adjoint"
        calls = (lambda: requests.patch(f"{url}/officials/{official['id']}", json={"function": other},
                                        headers=headers, timeout=60),
                 lambda: requests.post(f"{url}/orders", json={"official_ids": [official["id"]]}, headers=headers,
                                       timeout=60))
        changed, ordered = run_together(2, lambda index: calls[index]())
        assert changed.status_code in (200, 409) and ordered.status_code in (201, 422), (changed.text, ordered.text)
        # Exactly one goes through: the other is refused because of it. Refused both: a rule saw a state that
        # was not there. Accepted both: the order read the official before the change was written, or ordered a
        # preview being redrawn (a change makes the preview "processing" until the image function has drawn it
        # again, which takes far longer than the two requests sent at the same instant).
        assert changed.status_code == 200 or ordered.status_code == 201, f"trial {trial}: both refused"
        assert not (changed.status_code == 200 and ordered.status_code == 201), f"trial {trial}: both accepted"
        outcomes.append((changed.status_code, ordered.status_code))
        if ordered.status_code == 201:
            card, = ordered.json()["cards"]
            now = agent("GET", f"/officials/{official['id']}", 200)
            # The card holds the function the official has (an accepted order locks the official)
            assert card["function"] == now["function"] == current["function"], f"trial {trial}: {card['function']}"
            # and its preview is one that exists, not the one a redrawing was about to delete
            time.sleep(1.5)  # time for a redrawing that would have been under way to finish and delete the old one
            shown = requests.get(card["preview"]["url"], timeout=60)
            assert shown.status_code == 200, f"trial {trial}: the card's preview is gone"
            agent("POST", f"/orders/{ordered.json()['id']}/cancel", 200)
    print("outcomes (PATCH, POST /orders):", sorted(set(outcomes)))
