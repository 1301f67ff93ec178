"""The card maker's print files in one archive (issue 19): photos, drawn cards and a CSV manifest listing every card,
for one order or for every order in production; the photo assistant's warnings beside each photo."""
import csv
import io
import zipfile

import requests

from tests.conftest import REFERENCE_DATA
from tests.helpers import (auth, commune_with_ready_officials, deliver_photo_events, post_json, transition)


def produced(client, agent, operator, official_ids) -> dict:
    order = post_json(client, "/orders", {"official_ids": official_ids}, agent).json_body
    assert post_json(client, f"/orders/{order['id']}/submit", {"preview_acknowledged": True}, agent).status_code == 200
    assert transition(client, operator, order["id"], "en_production").status_code == 200
    return order


def archive_of(response) -> zipfile.ZipFile:
    assert response.status_code == 201, response.json_body
    return zipfile.ZipFile(io.BytesIO(requests.get(response.json_body["url"], timeout=30).content))


def manifest(archive: zipfile.ZipFile) -> list[dict]:
    return list(csv.DictReader(io.StringIO(archive.read("manifeste.csv").decode("utf-8-sig")), delimiter=";"))


def test_one_orders_archive_opens_with_zipfile_and_its_manifest_lists_every_card(client, aws, operator):
    agent, ids = commune_with_ready_officials(client, aws, operator, REFERENCE_DATA,
                                              names=("MARCHAND", "GIRAUD", "FONTAINE"))
    order = produced(client, agent, operator, ids)
    deliver_photo_events(client)  # the image function draws the numbered cards
    seen = client.http.get(f"/admin/orders/{order['id']}", headers=auth(operator)).json_body
    numbers = [c["card_number"] for c in seen["cards"]]
    assert all("photo_checks" in c for c in seen["cards"])  # the assistant's verdicts, beside each photo

    archive = archive_of(post_json(client, "/admin/print-archives", {"order_id": order["id"]}, operator))
    assert archive.testzip() is None
    rows = manifest(archive)
    assert [r["numero_carte"] for r in rows] == numbers
    assert [(r["nom"], r["fonction"]) for r in rows] == [("MARCHAND", "Maire"), ("GIRAUD", "Adjoint au maire"),
                                                        ("FONTAINE", "Adjointe au maire")]
    assert {r["commune"] for r in rows} == {"Bourg-en-Bresse"} and {r["departement"] for r in rows} == {"01"}
    for row in rows:  # every file the manifest names is in the archive, and is a JPEG
        for column in ("photo", "carte"):
            assert archive.read(row[column]).startswith(b"\xff\xd8\xff"), (row["numero_carte"], column)


def test_the_print_files_card_is_the_preview_drawing_with_its_number(client, aws, operator):
    """The card maker prints the drawing the commune acknowledged: the same card (band, layout, photo), numbered."""
    from PIL import Image, ImageChops, ImageStat

    from chalicelib.imaging import card as drawing

    agent, ids = commune_with_ready_officials(client, aws, operator, REFERENCE_DATA, names=("MARCHAND",))
    order = produced(client, agent, operator, ids)
    deliver_photo_events(client)
    seen = client.http.get(f"/admin/orders/{order['id']}", headers=auth(operator)).json_body
    archive = archive_of(post_json(client, "/admin/print-archives", {"order_id": order["id"]}, operator))
    (row,) = manifest(archive)
    printed = Image.open(io.BytesIO(archive.read(row["carte"])))
    preview = Image.open(io.BytesIO(requests.get(seen["cards"][0]["preview"]["url"], timeout=30).content))
    assert printed.size == preview.size == drawing.PREVIEW_SIZE
    above_footer = (0, 0, drawing.PREVIEW_SIZE[0], drawing.FOOTER_TOP)
    difference = ImageStat.Stat(ImageChops.difference(printed.crop(above_footer).convert("RGB"),
                                                      preview.crop(above_footer).convert("RGB"))).mean
    assert max(difference) < 1, difference  # header, band, photo and identity column: the very same pixels
    middle_of_blue = drawing.BAND_START + drawing.BAND_STRIPE * 5 // 2  # from the corner, along each edge
    blue = printed.convert("RGB").getpixel((drawing.PREVIEW_SIZE[0] - middle_of_blue // 2 - 1, middle_of_blue // 2))
    assert blue[2] > 100 and blue[0] < 60 and blue[1] < 60, blue  # the band's blue stripe
    # Only the number differs: « N° 2026-… » where the preview says « N° SPÉCIMEN ».
    footer = (0, drawing.FOOTER_TOP, drawing.PREVIEW_SIZE[0], drawing.PREVIEW_SIZE[1])
    assert max(ImageStat.Stat(ImageChops.difference(printed.crop(footer).convert("RGB"),
                                                    preview.crop(footer).convert("RGB"))).mean) > 1
    assert row["numero_carte"] == seen["cards"][0]["card_number"]


def test_the_archive_of_every_order_in_production_and_what_is_missing(client, aws, operator):
    agent, ids = commune_with_ready_officials(client, aws, operator, REFERENCE_DATA)
    first = produced(client, agent, operator, ids[:1])
    second = produced(client, agent, operator, ids[1:])
    # Cards not drawn yet: the archive says which files are missing, and asks for them to be drawn.
    response = post_json(client, "/admin/print-archives", {}, operator)
    body = response.json_body
    assert (body["orders"], body["cards"], body["truncated"]) == (2, 2, False)
    assert len(body["missing_files"]) == 2 and all(m.endswith(": carte") for m in body["missing_files"])
    rows = manifest(archive_of(response))
    assert sorted(r["demande"] for r in rows) == sorted([first["id"], second["id"]])
    # Nothing in production: a clear answer, not an empty archive.
    for order in (first, second):
        assert transition(client, operator, order["id"], "en_livraison").status_code == 200
    empty = post_json(client, "/admin/print-archives", {}, operator)
    assert (empty.status_code, empty.json_body["code"]) == (404, "not_found")
    # Not for a commune or a préfecture.
    assert post_json(client, "/admin/print-archives", {}, agent).status_code == 403


def test_one_cards_photo_refused_while_the_others_go_on(client, aws, operator):
    agent, ids = commune_with_ready_officials(client, aws, operator, REFERENCE_DATA,
                                              names=("MARCHAND", "GIRAUD", "FONTAINE"))
    order = produced(client, agent, operator, ids)
    numbers = {c["official_id"]: c["card_number"] for c in client.http.get(
        f"/admin/orders/{order['id']}", headers=auth(operator)).json_body["cards"]}
    path = f"/admin/orders/{order['id']}/cards/{ids[1]}/reject-photo"
    no_reason = post_json(client, path, {"reason": "  "}, operator)
    assert (no_reason.status_code, no_reason.json_body["code"]) == (422, "reason_required")
    refused = post_json(client, path, {"reason": "visage flou"}, operator)
    assert refused.status_code == 200, refused.json_body
    body = refused.json_body
    assert body["status"] == "en_production"  # the two others go on
    assert [c["official_id"] for c in body["cards"] if "photo_rejected" in c] == [ids[1]]
    assert body["alerts"][-1]["code"] == "photo_rejected" and "visage flou" in body["alerts"][-1]["message"]
    # The commune sees why and can send a new photo; the official is free to be ordered again then.
    official = client.http.get(f"/officials/{ids[1]}", headers=auth(agent)).json_body
    assert official["photo"]["status"] == "rejected" and "visage flou" in official["photo"]["reason"]
    assert official["card_in_progress"] is False
    assert post_json(client, "/orders", {"official_ids": [ids[1]]}, agent).json_body["code"] == "officials_not_ready"
    # Its numbered card is destroyed in the registry; the archive leaves it out; the others are delivered.
    assert client.http.get(f"/admin/cards/{numbers[ids[1]]}", headers=auth(operator)).json_body["status"] == \
        "detruite"
    rows = manifest(archive_of(post_json(client, "/admin/print-archives", {"order_id": order["id"]}, operator)))
    assert [r["nom"] for r in rows] == ["MARCHAND", "FONTAINE"]
    again = post_json(client, path, {"reason": "encore"}, operator)
    assert (again.status_code, again.json_body["code"]) == (409, "invalid_transition")
    # Every photo refused: the order is rejected.
    for official_id in (ids[0], ids[2]):
        last = post_json(client, f"/admin/orders/{order['id']}/cards/{official_id}/reject-photo",
                         {"reason": "photo ancienne"}, operator)
    assert last.json_body["status"] == "rejetee"
