"""The photo assistant in the photo trigger: a proposed framing when the agent gives none, verdicts on the photo, and
no order with a photo that has an error-level verdict."""
import io

import pytest
from PIL import Image

from tests.conftest import REFERENCE_DATA
from tests.helpers import (auth, load_directory, load_reference_data, post_json, register_official, registered_agent,
                           upload_photo)

pytest.importorskip("cv2")
assistant_set = pytest.importorskip("tests.unit.assistant_set")
Placement, Sample = assistant_set.Placement, assistant_set.Sample


@pytest.fixture
def agent(client, aws):
    operator = load_reference_data(client, REFERENCE_DATA)
    load_directory(client, operator, REFERENCE_DATA)
    return registered_agent(client, aws, operator)


def upload_without_crop(client, agent, official_id, sample):
    started = post_json(client, f"/officials/{official_id}/photo-uploads", {}, agent)
    assert started.status_code == 201, started.json_body
    from tests.helpers import deliver_photo_events, post_file

    post_file(started.json_body, assistant_set.jpeg(sample), "photo.jpg")
    deliver_photo_events(client)
    return client.http.get(f"/officials/{official_id}", headers=auth(agent)).json_body


def test_a_photo_without_crop_is_framed_with_the_face_at_the_norms_height(client, agent):
    official = register_official(client, agent, "MARCHAND", "maire").json_body
    sample = Sample("off-centre", canvas=(1800, 1400), heads=(Placement(assistant_set.NAMES[0], 460, (620, 520)),))
    result = upload_without_crop(client, agent, official["id"], sample)
    assert result["photo"]["status"] == "ready", result["photo"]
    crop = result["photo"]["crop"]
    assert crop == result["photo"]["proposed_crop"]
    truth = sample.truths()[0]  # where the face really is, not what the detector says
    assert 0.70 <= truth.head / crop["height"] <= 0.80
    assert abs(crop["width"] / crop["height"] - 35 / 45) < 0.01
    assert not result["photo"]["blocking"]


def test_a_photo_with_no_face_is_kept_but_blocks_ordering_with_a_french_reason(client, agent):
    official = register_official(client, agent, "MARCHAND", "maire").json_body
    data = assistant_set.jpeg(assistant_set.Sample("coffee", picture="coffee"))
    width, height = Image.open(io.BytesIO(data)).size
    crop_height = min(height, width * 45 // 35)
    crop = {"x": 0, "y": 0, "width": crop_height * 35 // 45, "height": crop_height}
    result = upload_photo(client, agent, official["id"], data, crop)
    assert result["photo"]["status"] == "ready"
    assert result["photo"]["blocking"] is True
    assert [c["code"] for c in result["photo"]["checks"] if c["level"] == "error"] == ["no_face"]
    refused = post_json(client, "/orders", {"official_ids": [official["id"]]}, agent)
    assert refused.status_code == 422
    [problem] = refused.json_body["details"]
    assert problem["code"] == "photo_not_conforming"
    assert "visage" in problem["message"].lower()
