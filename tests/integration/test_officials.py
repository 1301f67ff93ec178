"""Registering officials with a function, their photo through S3 and the photo trigger, and the card preview."""
import io
import json
from urllib.parse import unquote_plus

import pytest
from PIL import Image

from chalicelib.store.tables import Official
from tests.conftest import REFERENCE_DATA
from tests.helpers import (auth, deliver_photo_events, directory_entry, load_directory, other_commune_agent, post_file,
                           post_json, register_official, registered_agent, upload_photo)
from tests.unit import photo_corpus as corpus

GOOD_SIZE = (700, 900)
GOOD_CROP = corpus.full_crop(GOOD_SIZE)


@pytest.fixture
def agent(client, aws, operator):
    load_directory(client, operator, REFERENCE_DATA)
    return registered_agent(client, aws, operator)


@pytest.fixture
def mayor(client, agent):
    response = register_official(client, agent, "MARCHAND", "maire")
    assert response.status_code == 201, response.json_body
    return response.json_body


def annecy_agent(client, settings, operator):
    load_directory(client, operator, REFERENCE_DATA)
    return other_commune_agent(client, settings, "200063402", "agent@mairie-annecy.fr", "le lac bleu sous les montagnes")


def image_at(url: str) -> Image.Image:
    import requests

    response = requests.get(url, timeout=30)
    assert response.status_code == 200
    return Image.open(io.BytesIO(response.content))


# --- registration and functions -----------------------------------------------------------------------------------

def test_register_a_deputy_with_the_feminised_label(client, agent):
    response = register_official(client, agent, "FONTAINE", "adjoint")
    assert response.status_code == 201
    official = response.json_body
    assert official["function_label"] == "Adjointe au maire"
    assert official["photo"] == {"status": "missing", "ready": False}
    assert official["preview"] == {"status": "missing"}
    listed = client.http.get("/officials", headers=auth(agent)).json_body["items"]
    assert [o["last_name"] for o in listed] == ["FONTAINE"]


def test_a_function_the_person_does_not_hold_is_refused(client, agent):
    for last_name, function in (("FONTAINE", "maire"), ("PERRIN", "adjoint"), ("ROUSSEAU", "maire"),
                                ("GIRAUD", "maire_delegue")):
        response = register_official(client, agent, last_name, function)
        assert response.status_code == 422, last_name
        assert response.json_body["code"] == "function_not_eligible"


def test_registering_twice_is_409(client, agent, mayor):
    again = register_official(client, agent, "MARCHAND", "maire")
    assert again.status_code == 409 and again.json_body["code"] == "already_registered"


def test_unknown_directory_id_and_another_communes_person_are_404(client, agent):
    for directory_id in ("nope", "01053.0000000000", "74010." + "a" * 20):
        response = post_json(client, "/officials", {"directory_id": directory_id, "function": "maire"}, agent)
        assert response.status_code == 404, directory_id
    from chalicelib.services.directory import commune_partition, merge_persons

    annecy_mayor = next(p for p in merge_persons(commune_partition("74010")[0]) if p["last_name"] == "DUMAS")
    response = post_json(client, "/officials", {"directory_id": f"74010.{annecy_mayor['person_key']}",
                                                "function": "maire"}, agent)
    assert response.status_code == 404


def test_a_new_function_must_be_eligible_too(client, aws, operator):
    # BOUVIER (Annecy) is both 2nd deputy and delegated mayor.
    annecy = annecy_agent(client, aws, operator)
    official = register_official(client, annecy, "BOUVIER", "adjoint").json_body
    assert [f["code"] for f in official["eligible_functions"]] == ["adjoint", "maire_delegue"]
    changed = client.http.patch(f"/officials/{official['id']}", headers=auth(annecy),
                                body=json.dumps({"function": "maire_delegue"}))
    assert changed.status_code == 200 and changed.json_body["function_label"] == "Maire déléguée"
    refused = client.http.patch(f"/officials/{official['id']}", headers=auth(annecy),
                                body=json.dumps({"function": "maire"}))
    assert refused.status_code == 422


def test_officials_of_another_commune_are_404(client, aws, operator, agent, mayor):
    lyon = other_commune_agent(client, aws, "216901231", "agent@mairie-lyon.fr", "la colline de fourvière au loin")
    path = f"/officials/{mayor['id']}"
    assert client.http.get(path, headers=auth(lyon)).status_code == 404
    assert client.http.patch(path, headers=auth(lyon), body=json.dumps({"function": "maire"})).status_code == 404
    assert client.http.delete(path, headers=auth(lyon)).status_code == 404
    assert post_json(client, f"{path}/photo-uploads", {"crop": GOOD_CROP}, lyon).status_code == 404
    assert client.http.put(f"{path}/photo/crop", headers=auth(lyon),
                           body=json.dumps({"crop": GOOD_CROP})).status_code == 404
    assert client.http.get("/officials", headers=auth(lyon)).json_body["items"] == []
    assert client.http.get("/directory", headers=auth(lyon)).json_body["items"] == []  # Lyon is not in the sample


# --- photos -------------------------------------------------------------------------------------------------------

def test_a_photo_becomes_ready_with_a_preview_of_the_card(client, agent, mayor):
    official = upload_photo(client, agent, mayor["id"], corpus.small_jpeg(GOOD_SIZE), GOOD_CROP)
    assert official["photo"]["status"] == "ready", official
    assert official["preview"]["status"] == "ready"
    photo = image_at(official["photo"]["url"])
    assert photo.size == (413, 531) and photo.format == "JPEG"
    assert "exif" not in photo.info and "icc_profile" not in photo.info
    preview = image_at(official["preview"]["url"])
    assert preview.size == (1011, 638)


def test_the_upload_is_a_sigv4_presigned_post_limited_to_jpeg_and_10_mb(client, agent, mayor):
    started = post_json(client, f"/officials/{mayor['id']}/photo-uploads", {"crop": GOOD_CROP}, agent).json_body
    fields = started["fields"]
    assert fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    assert fields["Content-Type"] == "image/jpeg"
    policy = json.loads(__import__("base64").b64decode(fields["policy"]))
    assert ["content-length-range", 1, 10 * 1024 * 1024] in policy["conditions"]
    assert {"Content-Type": "image/jpeg"} in policy["conditions"]
    assert started["max_bytes"] == 10 * 1024 * 1024


@pytest.mark.parametrize("name, make, reason", [
    ("png", corpus.png_named_jpg, "JPEG"),
    ("gif", corpus.gif_named_jpg, "JPEG"),
    ("tiff", corpus.tiff_named_jpg, "JPEG"),
    ("text", corpus.text_named_jpg, "JPEG"),
    ("truncated", corpus.truncated_jpeg, "illisible"),
    ("empty", corpus.empty, "vide"),
    ("huge dimensions", corpus.huge_declared_jpeg, "trop grande"),
    ("over the size cap", corpus.oversized_jpeg, "taille maximale"),
])
def test_hostile_uploads_are_rejected_with_a_reason_and_the_previous_photo_survives(client, agent, mayor, name, make,
                                                                                   reason):
    first = upload_photo(client, agent, mayor["id"], corpus.small_jpeg(GOOD_SIZE), GOOD_CROP)
    assert first["photo"]["status"] == "ready"
    crop = GOOD_CROP if name != "huge dimensions" else {"x": 0, "y": 0, "width": 700, "height": 900}
    if name == "empty":
        # A browser cannot send an empty file through the presigned POST (size range); write it as S3 would.
        official = _upload_raw(client, agent, mayor["id"], b"", crop)
    else:
        official = upload_photo(client, agent, mayor["id"], make(), crop)
    assert official["photo"]["status"] == "rejected", name
    assert reason in official["photo"]["reason"]
    assert official["photo"]["ready"] is True  # the previous photo is kept
    assert image_at(official["photo"]["url"]).size == (413, 531)
    assert official["preview"]["status"] == "ready"


def _upload_raw(client, agent, official_id, content, crop):
    from chalicelib import aws
    from chalicelib.settings import get_settings

    started = post_json(client, f"/officials/{official_id}/photo-uploads", {"crop": crop}, agent).json_body
    aws.client("s3").put_object(Bucket=get_settings().data_bucket, Key=started["fields"]["key"], Body=content)
    deliver_photo_events(client)
    return client.http.get(f"/officials/{official_id}", headers=auth(agent)).json_body


@pytest.mark.parametrize("name, make, size", [
    ("cmyk", corpus.cmyk_jpeg, (700, 900)),
    ("progressive", corpus.progressive_jpeg, (1400, 1800)),
    ("gps", corpus.gps_jpeg, (700, 900)),
    ("phone photo", corpus.phone_jpeg, corpus.PHONE_SIZE),
])
def test_odd_but_valid_jpegs_become_ready_without_metadata(client, agent, mayor, name, make, size):
    official = upload_photo(client, agent, mayor["id"], make(), corpus.full_crop(size))
    assert official["photo"]["status"] == "ready", (name, official["photo"])
    photo = image_at(official["photo"]["url"])
    assert photo.size == (413, 531) and photo.mode == "RGB"
    assert photo.getexif() == {} and "icc_profile" not in photo.info


def test_an_exif_rotated_phone_photo_comes_out_upright(client, agent, mayor):
    official = upload_photo(client, agent, mayor["id"], corpus.oriented_pattern_jpeg(6), GOOD_CROP)
    photo = image_at(official["photo"]["url"]).convert("RGB")
    top = photo.getpixel((206, 40))
    assert top[0] > 150 and top[1] < 90 and top[2] < 90  # the red half is on top


@pytest.mark.parametrize("crop, reason", [
    ({"x": 500, "y": 0, "width": 413, "height": 531}, "dépasse"),
    ({"x": 0, "y": 0, "width": 350, "height": 450}, "trop petit"),
    ({"x": 0, "y": 0, "width": 700, "height": 700}, "format"),
])
def test_a_bad_crop_is_rejected_with_its_reason(client, agent, mayor, crop, reason):
    official = upload_photo(client, agent, mayor["id"], corpus.small_jpeg(GOOD_SIZE), crop)
    assert official["photo"]["status"] == "rejected"
    assert reason in official["photo"]["reason"]


def test_a_malformed_crop_is_refused_before_the_upload(client, agent, mayor):
    for crop in ({"x": -1, "y": 0, "width": 10, "height": 10}, {"x": 0, "y": 0, "width": 0, "height": 10},
                 {"x": 0, "y": 0, "width": "10", "height": 10}, {"x": 0, "y": 0}):
        response = post_json(client, f"/officials/{mayor['id']}/photo-uploads", {"crop": crop}, agent)
        assert response.status_code == 400, crop


def test_the_same_event_twice_and_an_older_event_after_a_newer_one(client, agent, mayor):
    from chalicelib import aws
    from chalicelib.store.queues import PHOTOS_QUEUE

    sqs = aws.client("sqs")
    url = aws.queue_url(PHOTOS_QUEUE)
    older = post_json(client, f"/officials/{mayor['id']}/photo-uploads", {"crop": GOOD_CROP}, agent).json_body
    newer = post_json(client, f"/officials/{mayor['id']}/photo-uploads", {"crop": GOOD_CROP}, agent).json_body
    post_file(older, corpus.small_jpeg(GOOD_SIZE))
    post_file(newer, corpus.progressive_jpeg((1400, 1800)))
    bodies = {}
    for _ in range(10):
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            body = json.loads(message["Body"])
            if "Records" in body:
                bodies[unquote_plus(body["Records"][0]["s3"]["object"]["key"])] = message["Body"]
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    newer_event = bodies[newer["fields"]["key"]]
    older_event = bodies[older["fields"]["key"]]
    for body in (newer_event, newer_event, older_event):  # duplicated, then late
        client.lambda_.invoke("process_photo_event", client.events.generate_sqs_event([body]))
    stored = Official.get(mayor_siren(), mayor["id"])
    assert stored.photo_id == newer["upload_id"] and stored.photo_status == "ready"
    from chalicelib.settings import get_settings

    keys = [o["Key"] for o in aws.client("s3").list_objects_v2(Bucket=get_settings().data_bucket,
                                                                Prefix="officials/").get("Contents", [])]
    assert sorted(k.rsplit("/", 1)[1] for k in keys) == sorted(
        f"{newer['upload_id']}-{kind}.jpg" for kind in ("original", "photo", "preview"))


def mayor_siren():
    return "210100533"


def test_recrop_uses_the_kept_original_without_a_new_upload(client, agent, mayor):
    upload_photo(client, agent, mayor["id"], corpus.phone_jpeg(), corpus.full_crop(corpus.PHONE_SIZE))
    first = Official.get(mayor_siren(), mayor["id"])
    crop = {"x": 100, "y": 100, "width": 1400, "height": 1800}
    response = client.http.put(f"/officials/{mayor['id']}/photo/crop", headers=auth(agent),
                               body=json.dumps({"crop": crop}))
    assert response.status_code == 202
    assert response.json_body["photo"]["status"] == "processing"
    deliver_photo_events(client)
    second = Official.get(mayor_siren(), mayor["id"])
    assert second.photo_status == "ready" and second.crop.as_dict() == crop
    assert second.original_key == first.original_key and second.photo_key != first.photo_key


def test_recrop_without_a_photo_is_409(client, agent, mayor):
    response = client.http.put(f"/officials/{mayor['id']}/photo/crop", headers=auth(agent),
                               body=json.dumps({"crop": GOOD_CROP}))
    assert response.status_code == 409 and response.json_body["code"] == "no_original"


def test_changing_the_function_redraws_the_preview(client, aws, operator):
    annecy = annecy_agent(client, aws, operator)
    official = register_official(client, annecy, "BOUVIER", "adjoint").json_body
    upload_photo(client, annecy, official["id"], corpus.small_jpeg(GOOD_SIZE), GOOD_CROP)
    before = Official.get("200063402", official["id"]).preview_key
    client.http.patch(f"/officials/{official['id']}", headers=auth(annecy), body=json.dumps({"function": "maire_delegue"}))
    deliver_photo_events(client)
    after = Official.get("200063402", official["id"])
    assert after.preview_key != before and after.preview_status == "ready"


def test_deleting_an_official_deletes_its_photos(client, agent, mayor):
    from chalicelib import aws
    from chalicelib.settings import get_settings

    upload_photo(client, agent, mayor["id"], corpus.small_jpeg(GOOD_SIZE), GOOD_CROP)
    s3 = aws.client("s3")
    bucket = get_settings().data_bucket
    assert s3.list_objects_v2(Bucket=bucket, Prefix="officials/").get("KeyCount") == 3
    assert client.http.delete(f"/officials/{mayor['id']}", headers=auth(agent)).status_code == 204
    assert s3.list_objects_v2(Bucket=bucket, Prefix="officials/").get("KeyCount") == 0
    assert client.http.get(f"/officials/{mayor['id']}", headers=auth(agent)).status_code == 404
    assert directory_entry(client, agent, "MARCHAND")["registered"] is False


def test_an_official_with_a_card_in_progress_cannot_change_or_go(client, agent, mayor):
    Official(mayor_siren(), mayor["id"]).update(actions=[Official.active_order_id.set("order-1")])
    path = f"/officials/{mayor['id']}"
    assert client.http.delete(path, headers=auth(agent)).status_code == 409
    response = client.http.patch(path, headers=auth(agent), body=json.dumps({"function": "maire"}))
    assert response.status_code == 200  # same function: nothing to change


def _jpeg_with_gps_and_a_comment(orientation: int = 6) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0112] = orientation
    exif[0x8825] = {1: "N", 2: (45.0, 54.0, 21.0), 3: "E", 4: (4.0, 50.0, 0.0)}  # GPSInfo: where it was taken
    out = io.BytesIO()
    corpus.photo_like((900, 700)).save(out, "JPEG", quality=90, exif=exif, comment=b"<a href=x>lien</a>")
    return out.getvalue()


def test_the_kept_original_has_no_metadata_but_its_orientation_and_the_servers_content_type(client, aws, agent,
                                                                                              mayor):
    """The outside test found the original kept as sent (GPS, EXIF) and typed as the uploader said (text/html)."""
    from chalicelib import aws as aws_clients
    from chalicelib.settings import get_settings

    started = post_json(client, f"/officials/{mayor['id']}/photo-uploads",
                        {"crop": corpus.full_crop((700, 900))}, agent)
    fields = {**started.json_body["fields"], "Content-Type": "text/html"}  # the emulation does not enforce it
    post_file({**started.json_body, "fields": fields}, _jpeg_with_gps_and_a_comment(), "photo.jpg")
    deliver_photo_events(client)
    official = Official.get(mayor_siren(), mayor["id"])
    assert official.photo_key and official.original_key
    stored = aws_clients.client("s3").get_object(Bucket=get_settings().data_bucket, Key=official.original_key)
    assert stored["ContentType"] == "image/jpeg"
    kept = stored["Body"].read()
    assert b"PhoneMaker" not in kept and b"lien" not in kept
    kept_exif = Image.open(io.BytesIO(kept)).getexif()
    assert dict(kept_exif) == {0x0112: 6} and not kept_exif.get_ifd(0x8825)
    for key in (official.photo_key, official.preview_key):
        head = aws_clients.client("s3").head_object(Bucket=get_settings().data_bucket, Key=key)
        assert head["ContentType"] == "image/jpeg"
    # and the export offers no original at all
    export = client.http.get(f"/officials/{mayor['id']}/export", headers=auth(agent)).json_body
    assert set(export["photo_files"]) == {"photo", "card_preview"}
