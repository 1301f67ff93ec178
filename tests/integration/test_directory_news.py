"""After each directory import, each registered commune it touched is told what changed for it: one email, one notice
in its space (services/directory_news.py)."""
import json
from pathlib import Path

from chalicelib import aws as aws_clients
from chalicelib.store.queues import NOTICES_QUEUE
from chalicelib.store.tables import Commune
from tests.conftest import REFERENCE_DATA
from tests.helpers import (OPERATOR_TOTP_SECRET, auth, commune_with_ready_officials, deliver_s3_events, import_file,
                           load_directory, log_in, outbox_messages, post_json, registered_agent, transition)
from tests.integration.test_orders import PREFECTURE_PASSWORD, submitted

AGENT = "agent@mairie-bourg.fr"
CM_FILE = REFERENCE_DATA / "elus-conseillers-municipaux-cm.csv"


def deliver_notices(client) -> int:
    return deliver_s3_events(client, queue=NOTICES_QUEUE, handler="tell_communes")


def cm_file(drop=(), promote=None) -> bytes:
    """The sample CM file without the lines naming ``drop``; ``promote``: (last name, new function label)."""
    lines = []
    for line in CM_FILE.read_text(encoding="utf-8-sig").splitlines():
        fields = line.split(";")
        if any(name in fields for name in drop):
            continue
        if promote and promote[0] in fields:
            fields[13] = promote[1]
        lines.append(";".join(fields))
    return ("\n".join(lines) + "\n").encode("utf-8-sig")


def notices_of(client, agent):
    response = client.http.get("/directory-notices", headers=auth(agent))
    assert response.status_code == 200, response.json_body
    return response.json_body["items"]


def directory_mails(settings, to=AGENT):
    return [m for m in outbox_messages(Path(settings.outbox_dir), to) if m["Subject"].startswith("Répertoire")]


def prefecture_agent(client):
    from tests.helpers import create_operator

    create_operator("guichet@ain.gouv.fr", "Paula", "Préfète", "prefecture", "01", password=PREFECTURE_PASSWORD)
    return log_in(client, "guichet@ain.gouv.fr", PREFECTURE_PASSWORD, OPERATOR_TOTP_SECRET)


def test_a_new_directory_tells_the_commune_once_who_can_get_a_card_and_which_cards_to_return(client, aws, operator):
    agent, (marchand, giraud, fontaine) = commune_with_ready_officials(
        client, aws, operator, REFERENCE_DATA, names=("MARCHAND", "GIRAUD", "FONTAINE"))
    prefecture = prefecture_agent(client)
    delivered = submitted(client, agent, [giraud])
    for token, to in ((operator, "en_production"), (operator, "en_livraison"), (prefecture, "livree"),
                      (prefecture, "remise")):
        assert transition(client, token, delivered["id"], to).status_code == 200
    card_number = client.http.get(f"/orders/{delivered['id']}", headers=auth(agent)).json_body["cards"][0][
        "card_number"]
    pending = submitted(client, agent, [fontaine])
    deliver_notices(client)  # the imports of the fixture, before the commune registered: nothing to say
    assert directory_mails(aws) == [] and notices_of(client, agent) == []

    # Rousseau becomes a deputy; Giraud (card handed over) and Fontaine (card ordered) leave; Oyonnax, not
    # registered, loses its third deputy.
    newer = cm_file(drop=("GIRAUD", "FONTAINE", "GAUTHIER"), promote=("ROUSSEAU", "9ème adjoint au Maire"))
    report = import_file(client, operator, "rne_cm", newer)
    assert report["status"] == "done" and report["communes_checked"] == 1  # Bourg-en-Bresse only
    assert deliver_notices(client) == 1

    [mail] = directory_mails(aws)
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert mail["Subject"] == "Répertoire des élus\u00a0: changements pour votre commune"
    assert "Élus pouvant désormais recevoir une carte\u00a0: Léa ROUSSEAU (Adjointe au maire)." in text
    assert f"Loïc GIRAUD (Adjoint au maire), carte n° {card_number}" in text
    assert f"Gaëlle FONTAINE (Adjointe au maire), demande {pending['id']}" in text
    assert "https://site.test/tableau-de-bord.html" in text
    [notice] = notices_of(client, agent)
    assert notice["source"] == "rne_cm" and notice["source_label"] == "fichier des conseillers municipaux"
    assert [(line["name"], line["registered"]) for line in notice["newly_eligible"]] == [("Léa ROUSSEAU", False)]
    register = post_json(client, "/officials", {"directory_id": notice["newly_eligible"][0]["directory_id"],
                                                "function": "adjoint"}, agent)
    assert register.status_code == 201, register.json_body
    assert [(line["name"], line["card_number"], line["order_id"]) for line in notice["cards_to_return"]] == [
        ("Loïc GIRAUD", card_number, delivered["id"])]
    assert [(line["name"], line["order_id"]) for line in notice["orders_flagged"]] == [
        ("Gaëlle FONTAINE", pending["id"])]

    # The same file again: the commune is checked, nothing changed, nothing is said.
    again = import_file(client, operator, "rne_cm", newer)
    assert again["communes_checked"] == 1 and deliver_notices(client) == 1
    assert len(directory_mails(aws)) == 1 and len(notices_of(client, agent)) == 1


def test_a_message_delivered_twice_sends_one_email(client, aws, operator):
    load_directory(client, operator, REFERENCE_DATA)
    agent = registered_agent(client, aws, operator)
    deliver_notices(client)
    sqs = aws_clients.client("sqs")
    url = sqs.get_queue_url(QueueName=NOTICES_QUEUE)["QueueUrl"]
    import_file(client, operator, "rne_cm", cm_file(promote=("MOREL", "9ème adjoint au Maire")))
    [message] = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert json.loads(message["Body"])["siren"] == "210100533"
    sqs.send_message(QueueUrl=url, MessageBody=message["Body"])  # SQS delivers at least once
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    assert deliver_notices(client) == 2
    [mail] = directory_mails(aws)
    assert mail["Subject"] == "Répertoire des élus\u00a0: un élu peut recevoir une carte"
    assert len(notices_of(client, agent)) == 1


def test_each_agent_gets_the_email_and_a_read_notice_leaves_the_space(client, aws, operator):
    load_directory(client, operator, REFERENCE_DATA)
    agent = registered_agent(client, aws, operator)
    invited = post_json(client, "/agents", {"email": "second@mairie-bourg.fr", "last_name": "Durand",
                                            "first_name": "Alix"}, agent)
    assert invited.status_code == 201, invited.json_body
    deliver_notices(client)
    import_file(client, operator, "rne_cm", cm_file(promote=("BLANC", "Maire délégué")))
    deliver_notices(client)
    assert len(directory_mails(aws)) == 1 and len(directory_mails(aws, "second@mairie-bourg.fr")) == 1
    [notice] = notices_of(client, agent)
    assert notice["newly_eligible"][0]["function_label"] == "Maire déléguée"

    read = client.http.post(f"/directory-notices/{notice['id']}/read", headers=auth(agent))
    assert read.status_code == 204
    assert notices_of(client, agent) == []
    again = client.http.post(f"/directory-notices/{notice['id']}/read", headers=auth(agent))
    assert again.status_code == 404 and again.json_body["code"] == "not_found"
    assert client.http.get("/directory-notices").status_code == 401


def test_a_commune_never_compared_is_compared_silently_first(client, aws, operator):
    """A commune registered before the portal compared directories (or whose first look failed) learns what
    changes after its first comparison, never the whole directory at once."""
    load_directory(client, operator, REFERENCE_DATA)
    agent = registered_agent(client, aws, operator)
    assert deliver_notices(client) == 1  # the first look, asked at registration
    assert Commune.get("210100533").directory_seen_import == "registration"
    Commune("210100533").update(actions=[Commune.directory_seen_import.remove(), Commune.directory_seen.remove()])
    import_file(client, operator, "rne_cm", cm_file(promote=("MOREL", "9ème adjoint au Maire")))
    deliver_notices(client)
    assert directory_mails(aws) == [] and notices_of(client, agent) == []
    import_file(client, operator, "rne_cm", cm_file(promote=("MOREL", "9ème adjoint au Maire"), drop=("BLANC",))
                + "01;Ain;;;01053;Bourg-en-Bresse;NOUVEAU;Paul;M;01/01/1980;48;Professions intermédiaires;"
                  "15/03/2026;10ème adjoint au Maire;22/03/2026;FRA\n".encode())
    deliver_notices(client)
    [notice] = notices_of(client, agent)
    assert [line["name"] for line in notice["newly_eligible"]] == ["Paul NOUVEAU"]
    assert notice["cards_to_return"] == []


def test_the_national_file_is_handed_over_ten_communes_a_call(aws):
    """The import queues one message per registered commune, with SendMessageBatch (ten a call)."""
    from chalicelib.store import queues

    queues.send_batch(NOTICES_QUEUE, [{"siren": str(n), "import_id": "i", "source": "rne_cm"} for n in range(23)])
    sqs = aws_clients.client("sqs")
    url = sqs.get_queue_url(QueueName=NOTICES_QUEUE)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "23"


def test_a_malformed_notice_message_is_dropped_not_retried(client, aws):
    for body in ("pas du JSON", json.dumps(["210100533"]), json.dumps({"siren": "210100533", "import_id": 3})):
        event = client.events.generate_sqs_event([body], queue_name=NOTICES_QUEUE)
        client.lambda_.invoke("tell_communes", event)  # no exception: the message is not retried forever
    assert directory_mails(aws) == []
