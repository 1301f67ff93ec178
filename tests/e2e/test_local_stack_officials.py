"""« Enregistrer les élus de ma commune » on the running local stack, over HTTP only."""
import io
import time

import requests
from PIL import Image

from local.demo import REFERENCE_DATA
from tests.unit import photo_corpus as corpus

OYONNAX = "210102836"


class Api:
    def __init__(self, base: str):
        self.base = base
        self.session = requests.Session()

    def __call__(self, method: str, path: str, expected: int, **kwargs):
        response = self.session.request(method, self.base + path, timeout=60, **kwargs)
        assert response.status_code == expected, (method, path, response.status_code, response.text)
        return response.json() if response.content else None

    def log_in(self, email: str, password: str, totp_secret: str | None = None) -> None:
        body = {"email": email, "password": password}
        if totp_secret:  # an operator: the code of their second factor
            from tests.helpers import otp

            body["otp"] = otp(totp_secret)
        token = self("POST", "/sessions", 201, json=body)["token"]
        self.session.headers["Authorization"] = f"Bearer {token}"

    def log_in_as(self, account: dict) -> None:
        """An account of var/local-stack.json (its ``totp_secret`` for an operator)."""
        self.log_in(account["email"], account["password"], account.get("totp_secret"))

    def enrol_second_factor(self) -> str:
        """A new operator's session serves enrolment only: enrol, as the enrolment page does; the secret."""
        from tests.helpers import otp

        secret = self("POST", "/me/second-factor", 201)["secret"]
        self("POST", "/me/second-factor/confirm", 200, json={"otp": otp(secret)})
        return secret


def wait_for(check, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError("timed out")


def test_import_register_upload_crop_and_see_the_preview(stack):
    state = stack.state
    operator = Api(state["api_url"])
    operator.log_in_as(state["operators"]["manufacturer"])

    # The directory file goes through the presigned POST and the S3 trigger, as the operator's browser sends it.
    started = operator("POST", "/admin/reference-imports", 201, json={"kind": "rne_cm"})
    content = (REFERENCE_DATA / "elus-conseillers-municipaux-cm.csv").read_bytes()
    sent = requests.post(started["upload"]["url"], data=started["upload"]["fields"],
                         files={"file": ("elus.csv", content)}, timeout=60)
    assert sent.status_code in (200, 204)
    done = wait_for(lambda: (lambda s: s if s["status"] == "done" else None)(
        operator("GET", f"/admin/reference-imports/{started['id']}", 200)))
    assert (done["imported"], done["rejected"]) == (26, 0)

    # The demo's registered commune (Oyonnax): its agent logs in with what var/local-stack.json gives.
    agent = Api(state["api_url"])
    agent.log_in(state["demo_agent"]["email"], state["demo_agent"]["password"])
    assert agent("GET", "/me", 200)["commune"]["siren"] == state["demo_agent"]["siren"] == OYONNAX

    entries = agent("GET", "/directory?q=vincent", 200)["items"]
    assert [e["last_name"] for e in entries] == ["VINCENT"]
    official = agent("POST", "/officials", 201, json={"directory_id": entries[0]["id"], "function": "maire"})

    photo = corpus.phone_jpeg()
    crop = {"x": 1000, "y": 300, "width": 1750, "height": 2250}
    upload = agent("POST", f"/officials/{official['id']}/photo-uploads", 201, json={"crop": crop})
    sent = requests.post(upload["url"], data=upload["fields"], files={"file": ("photo.jpg", photo, "image/jpeg")},
                         timeout=60)
    assert sent.status_code in (200, 204)
    ready = wait_for(lambda: (lambda o: o if o["photo"]["status"] == "ready" else None)(
        agent("GET", f"/officials/{official['id']}", 200)))
    assert ready["photo"]["crop"] == crop
    preview = Image.open(io.BytesIO(requests.get(ready["preview"]["url"], timeout=60).content))
    assert preview.size == (1011, 638)
    id_photo = Image.open(io.BytesIO(requests.get(ready["photo"]["url"], timeout=60).content))
    assert id_photo.size == (413, 531)
