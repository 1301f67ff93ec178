"""The photo assistant on the running local stack, over HTTP only."""
from io import BytesIO
from pathlib import Path

import pytest
import requests
from PIL import Image

from tests.e2e.test_local_stack import read_link_token
from tests.e2e.test_local_stack_officials import Api, wait_for

pytest.importorskip("cv2")
assistant_set = pytest.importorskip("tests.unit.assistant_set")


def test_no_crop_gives_a_norm_framing_and_no_face_blocks_the_order(stack):
    state = stack.state
    agent = Api(state["api_url"])
    email = "photos@mairie-bourg-en-bresse.fr"
    agent("POST", "/registrations", 201, json={"siren": state["demo"]["siren"],
                                               "activation_code": state["demo"]["activation_code"],
                                               "last_name": "Photo", "first_name": "Paul", "email": email})
    token = read_link_token(Path(state["outbox_dir"]), email)
    agent("POST", "/password", 204, json={"token": token, "password": "les vitraux de Brou au soleil"})
    agent.log_in(email, "les vitraux de Brou au soleil")
    directory = {e["last_name"]: e for e in agent("GET", "/directory", 200)["items"]}

    def official_with_photo(name, function, data, body):
        official = agent("POST", "/officials", 201, json={"directory_id": directory[name]["id"], "function": function})
        upload = agent("POST", f"/officials/{official['id']}/photo-uploads", 201, json=body)
        sent = requests.post(upload["url"], data=upload["fields"], files={"file": ("photo.jpg", data, "image/jpeg")},
                             timeout=60)
        assert sent.status_code in (200, 204)
        return wait_for(lambda: (lambda o: o if o["photo"]["status"] in ("ready", "rejected") else None)(
            agent("GET", f"/officials/{official['id']}", 200)))

    sample = assistant_set.Sample("off-centre", canvas=(1800, 1400),
                                  heads=(assistant_set.Placement(assistant_set.NAMES[1], 460, (1150, 560)),))
    framed = official_with_photo("MARCHAND", "maire", assistant_set.jpeg(sample), {})  # no crop at all
    assert framed["photo"]["status"] == "ready" and not framed["photo"]["blocking"]
    crop = framed["photo"]["crop"]
    assert 0.70 <= sample.truths()[0].head / crop["height"] <= 0.80  # measured on where the face really is

    picture = assistant_set.jpeg(assistant_set.Sample("coffee", picture="coffee"))
    width, height = Image.open(BytesIO(picture)).size
    side = min(height, width * 45 // 35)
    no_face = official_with_photo("FONTAINE", "adjoint", picture,
                                  {"crop": {"x": 0, "y": 0, "width": side * 35 // 45, "height": side}})
    assert no_face["photo"]["blocking"] is True
    refused = agent.session.post(f"{state['api_url']}/orders", json={"official_ids": [no_face["id"]]}, timeout=60)
    assert refused.status_code == 422
    [problem] = refused.json()["details"]
    assert problem["code"] == "photo_not_conforming" and "visage" in problem["message"]
    assert agent("POST", "/orders", 201, json={"official_ids": [framed["id"]]})["status"] == "brouillon"
