"""Journeys that many tests share: sending a file through a presigned POST, delivering S3 events, registering."""
import email
import re
import threading
from pathlib import Path

import requests

from chalicelib import aws
from chalicelib.domain.changes import Refused
from chalicelib.errors import PortalError
from chalicelib.events.uploads import IMPORTS_QUEUE

MANUFACTURER_PASSWORD = "usine à cartes tricolores 2026"
# The second factor of every operator the tests create (base32, RFC 6238, 30 s, 6 digits): `otp` gives its code.
OPERATOR_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def otp(secret: str = OPERATOR_TOTP_SECRET) -> str:
    """The code an authenticator app shows now for this secret (what a script sends as ``"otp"``): now as the portal's
    clock says, which the tests may move (``chalicelib.clock.now``)."""
    from chalicelib import clock
    from chalicelib.domain.second_factor import code_at

    return code_at(secret, clock.now().timestamp())


def create_operator(email: str, first_name: str, last_name: str, role: str, department_code: str | None,
                    password: str, totp_secret: str = OPERATOR_TOTP_SECRET) -> dict:
    """An operator with a password and a second factor already enrolled (as the local stack seeds its own)."""
    from chalicelib.services import accounts, second_factor

    created = accounts.create_operator(email, first_name, last_name, role, department_code, password=password)
    second_factor.enrol_at_seed(created["email"], totp_secret)
    return created


def post_file(upload: dict, content: bytes, filename: str = "fichier.csv") -> requests.Response:
    """What a browser does with a presigned POST: the fields, then the file last."""
    response = requests.post(upload["url"], data=upload["fields"], files={"file": (filename, content)}, timeout=30)
    assert response.status_code in (200, 201, 204), response.text
    return response


def deliver_s3_events(client, queue: str = IMPORTS_QUEUE, handler: str = "import_reference_file") -> int:
    """Read the S3 notifications that the emulation queued and hand them to the handler as Lambda would."""
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    delivered = 0
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return delivered
        for message in messages:
            event = client.events.generate_sqs_event([message["Body"]], queue_name=queue)
            client.lambda_.invoke(handler, event)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            delivered += 1


def deliver_account_mails(client) -> int:
    """Run the mails function on what the API queued (set-password links asked for, alerts)."""
    from chalicelib.store.queues import MAILS_QUEUE

    return deliver_s3_events(client, queue=MAILS_QUEUE, handler="send_account_mails")


def queued(queue: str) -> list[str]:
    """Takes every message waiting on the queue (their bodies), as a function would be handed them."""
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    bodies = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def json_headers() -> dict:
    return {"Content-Type": "application/json"}


def post_json(client, path: str, body: dict, token: str | None = None):
    import json

    headers = auth(token) if token else json_headers()
    return client.http.post(path, headers=headers, body=json.dumps(body))


def create_manufacturer(email: str = "operateur@fabricant.example.fr") -> str:
    create_operator(email, "Olivia", "Opératrice", "manufacturer", None, password=MANUFACTURER_PASSWORD)
    return email


def log_in(client, email: str, password: str, totp_secret: str | None = None) -> str:
    """A session token; ``totp_secret``: the account's second factor, whose current code is sent."""
    body = {"email": email, "password": password}
    if totp_secret:
        body["otp"] = otp(totp_secret)
    response = post_json(client, "/sessions", body)
    assert response.status_code == 201, response.json_body
    return response.json_body["token"]


def import_file(client, token: str, kind: str, content: bytes) -> dict:
    started = post_json(client, "/admin/reference-imports", {"kind": kind}, token)
    assert started.status_code == 201, started.json_body
    post_file(started.json_body["upload"], content)
    deliver_s3_events(client)
    return client.http.get(f"/admin/reference-imports/{started.json_body['id']}", headers=auth(token)).json_body


def load_reference_data(client, reference_data: Path) -> str:
    """Operator, communes and préfectures as in the demo; returns the operator's token."""
    email_address = create_manufacturer()
    token = log_in(client, email_address, MANUFACTURER_PASSWORD, OPERATOR_TOTP_SECRET)
    for kind, name in (("communes", "communes.csv"), ("prefectures", "prefectures.csv")):
        result = import_file(client, token, kind, (reference_data / name).read_bytes())
        assert result["status"] == "done" and result["rejected"] == 0, result
    return token


def outbox_messages(outbox: Path, to: str | None = None) -> list[email.message.EmailMessage]:
    if not outbox.exists():
        return []
    messages = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
                for p in sorted(outbox.glob("*.eml"))]
    return [m for m in messages if to is None or m["To"] == to]


def link_token(message) -> str:
    text = message.get_body(preferencelist=("plain",)).get_content()
    match = re.search(r"\?token=([A-Za-z0-9_.\-]+)", text)
    assert match, text
    return match.group(1)


DEMO_SIREN = "210100533"  # Bourg-en-Bresse, in data/reference/communes.csv
AGENT_PASSWORD = "une tartine de comté au petit matin"


def issue_code(client, operator_token: str, siren: str = DEMO_SIREN) -> str:
    response = client.http.post(f"/admin/communes/{siren}/activation-code", headers=auth(operator_token))
    assert response.status_code == 201, response.json_body
    return response.json_body["activation_code"]


def register(client, code: str, email_address: str = "agent@mairie-bourg.fr", siren: str = DEMO_SIREN):
    return post_json(client, "/registrations", {"siren": siren, "activation_code": code, "last_name": "Martin",
                                                "first_name": "Camille", "email": email_address})


def registered_agent(client, settings, operator_token: str, email_address: str = "agent@mairie-bourg.fr") -> str:
    """Register the demo commune, set the password from the emailed link, log in; returns the session token."""
    code = issue_code(client, operator_token)
    assert register(client, code, email_address).status_code == 201
    token = link_token(outbox_messages(Path(settings.outbox_dir), email_address)[-1])
    response = post_json(client, "/password", {"token": token, "password": AGENT_PASSWORD})
    assert response.status_code == 204, response.json_body
    return log_in(client, email_address, AGENT_PASSWORD)


PHOTOS_HANDLER = "process_photo_event"


def load_directory(client, operator_token: str, reference_data: Path) -> None:
    for kind, name in (("rne_cm", "elus-conseillers-municipaux-cm.csv"), ("rne_maires", "elus-maires-mai.csv")):
        result = import_file(client, operator_token, kind, (reference_data / name).read_bytes())
        assert result["status"] == "done" and result["rejected"] == 0, result


def deliver_photo_events(client) -> int:
    from chalicelib.store.queues import PHOTOS_QUEUE

    return deliver_s3_events(client, queue=PHOTOS_QUEUE, handler=PHOTOS_HANDLER)


def directory_entry(client, token: str, last_name: str) -> dict:
    items = client.http.get("/directory", headers=auth(token)).json_body["items"]
    return next(item for item in items if item["last_name"] == last_name)


def register_official(client, token: str, last_name: str, function: str):
    entry = directory_entry(client, token, last_name)
    return post_json(client, "/officials", {"directory_id": entry["id"], "function": function}, token)


def upload_photo(client, token: str, official_id: str, content: bytes, crop: dict, deliver: bool = True):
    started = post_json(client, f"/officials/{official_id}/photo-uploads", {"crop": crop}, token)
    assert started.status_code == 201, started.json_body
    post_file(started.json_body, content, "photo.jpg")
    if deliver:
        deliver_photo_events(client)
    return client.http.get(f"/officials/{official_id}", headers=auth(token)).json_body


def other_commune_agent(client, settings, siren: str, email_address: str, password: str) -> str:
    """Register another commune of the sample reference file (code issued directly) and log its agent in."""
    from chalicelib.services.accounts import issue_activation_code

    code = issue_activation_code(siren)["activation_code"]
    response = post_json(client, "/registrations", {"siren": siren, "activation_code": code, "last_name": "Agent",
                                                    "first_name": "Autre", "email": email_address})
    assert response.status_code == 201, response.json_body
    token = link_token(outbox_messages(Path(settings.outbox_dir), email_address)[-1])
    assert post_json(client, "/password", {"token": token, "password": password}).status_code == 204
    return log_in(client, email_address, password)


def commune_with_ready_officials(client, settings, operator: str, reference_data: Path, names=("MARCHAND", "GIRAUD")):
    """The demo commune registered, its directory loaded, some officials registered with a ready photo."""
    from tests.unit import photo_corpus as corpus

    load_directory(client, operator, reference_data)
    agent = registered_agent(client, settings, operator)
    functions = {"MARCHAND": "maire"}
    ids = []
    for name in names:
        official = register_official(client, agent, name, functions.get(name, "adjoint")).json_body
        ready = upload_photo(client, agent, official["id"], corpus.portrait_jpeg((700, 900)), corpus.full_crop((700, 900)))
        assert ready["photo"]["status"] == "ready", ready
        ids.append(official["id"])
    return agent, ids


def transition(client, token: str, order_id: str, to: str, reason: str | None = None):
    body = {"to": to} if reason is None else {"to": to, "reason": reason}
    return post_json(client, f"/admin/orders/{order_id}/transitions", body, token)


def run_together(count, work):
    """Start ``count`` threads at the same instant; return what each returned or raised."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def runner(index):
        barrier.wait()
        try:
            results[index] = work(index)
        except (PortalError, Refused) as error:
            results[index] = error

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results
