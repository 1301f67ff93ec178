"""Demo data for the local stack, loaded through the same HTTP API and S3 path that an operator and a town hall use.

Two communes of the Ain: Bourg-en-Bresse waits for its registration (its activation code is printed, to walk the
guide from « Démarrer l'inscription »), and Oyonnax is already registered, with an agent who can log in at once and two
officials whose photos are ready to order. The files come from the project's own data/ (data/README.md).
"""
import email
import email.policy
import re
import time
from pathlib import Path

import requests

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
REFERENCE_DATA = DATA_DIR / "reference"
DEMO_PHOTOS = DATA_DIR / "photos"

DEMO_SIREN = "210100533"  # Bourg-en-Bresse (Ain): to register
REGISTERED = {"siren": "210102836", "commune_name": "Oyonnax",  # registered by the demo, with two officials
              "email": "secretariat@mairie-oyonnax.example.fr", "password": "la vallée du Lange sous la brume",
              "first_name": "Sandrine", "last_name": "Mercier"}
# (directory search, function, photo of data/photos/): officials of Oyonnax in data/reference/, photos ready
REGISTERED_OFFICIALS = (("CARON", "adjoint", "portrait-astronaute.jpg"),
                        ("GAUTHIER", "adjoint", "portrait-grace-hopper.jpg"))
# The demo operators' second factor is enrolled at seed time with these secrets (base32, RFC 6238, 30 s, 6 digits):
# scripts compute their codes from them (var/local-stack.json), a person adds them to an authenticator app.
MANUFACTURER = {"email": "fabricant@cartes-elus.example.fr", "password": "presse à cartes tricolore 2026",
                "first_name": "Farid", "last_name": "Fabre", "totp_secret": "KRUGKIDDMFZGIIDNMFVWK4RAONSWG4TF"}
PREFECTURE = {"email": "prefecture-ain@cartes-elus.example.fr", "password": "guichet des élus de l'Ain",
              "first_name": "Pauline", "last_name": "Préfet", "department_code": "01",
              "totp_secret": "MFUW4IDQOJSWMZLDOR2XEZJAMRSSA3DB"}
REFERENCE_FILES = (("communes", "communes.csv"), ("prefectures", "prefectures.csv"),
                   ("rne_cm", "elus-conseillers-municipaux-cm.csv"), ("rne_maires", "elus-maires-mai.csv"))


class DemoError(RuntimeError):
    pass


def load_demo(api_url: str, outbox: Path, reference_data: Path = REFERENCE_DATA) -> dict:
    from chalicelib.services.accounts import create_operator
    from chalicelib.services.second_factor import enrol_at_seed

    # The first operator cannot be created through the API (nobody is logged in yet): as on a fresh deployment.
    create_operator(MANUFACTURER["email"], MANUFACTURER["first_name"], MANUFACTURER["last_name"], "manufacturer",
                    None, password=MANUFACTURER["password"])
    enrol_at_seed(MANUFACTURER["email"], MANUFACTURER["totp_secret"])
    api = ApiClient(api_url)
    api.log_in(MANUFACTURER["email"], MANUFACTURER["password"], MANUFACTURER["totp_secret"])
    for kind, name in REFERENCE_FILES:
        api.import_file(kind, reference_data / name)
    create_operator(PREFECTURE["email"], PREFECTURE["first_name"], PREFECTURE["last_name"], "prefecture",
                    PREFECTURE["department_code"], password=PREFECTURE["password"])
    enrol_at_seed(PREFECTURE["email"], PREFECTURE["totp_secret"])
    code = api.call("POST", f"/admin/communes/{DEMO_SIREN}/activation-code", 201)
    registered_code = api.call("POST", f"/admin/communes/{REGISTERED['siren']}/activation-code", 201)
    register_commune(api_url, outbox, registered_code["activation_code"])
    return {
        "demo": {"siren": DEMO_SIREN, "activation_code": code["activation_code"],
                 "commune_name": code["commune_name"]},
        "demo_agent": {key: REGISTERED[key] for key in ("email", "password", "siren", "commune_name")},
        "operators": {
            "manufacturer": {"email": MANUFACTURER["email"], "password": MANUFACTURER["password"],
                             "totp_secret": MANUFACTURER["totp_secret"]},
            "prefecture": {"email": PREFECTURE["email"], "password": PREFECTURE["password"],
                           "department_code": PREFECTURE["department_code"], "totp_secret": PREFECTURE["totp_secret"]},
        },
    }


def register_commune(api_url: str, outbox: Path, activation_code: str) -> None:
    """Oyonnax registers as a town hall does (code, agent, the link of the email, password), then registers two
    officials and sends their photos through the presigned POST and the S3 trigger."""
    agent = ApiClient(api_url)
    agent.call("POST", "/registrations", 201, {
        "siren": REGISTERED["siren"], "activation_code": activation_code, "last_name": REGISTERED["last_name"],
        "first_name": REGISTERED["first_name"], "email": REGISTERED["email"]})
    agent.call("POST", "/password", 204, {"token": link_token(outbox, REGISTERED["email"]),
                                          "password": REGISTERED["password"]})
    agent.log_in(REGISTERED["email"], REGISTERED["password"])
    for last_name, function, photo in REGISTERED_OFFICIALS:
        entry, = agent.call("GET", f"/directory?q={last_name}", 200)["items"]
        official = agent.call("POST", "/officials", 201, {"directory_id": entry["id"], "function": function})
        agent.upload_photo(official["id"], DEMO_PHOTOS / photo)


def link_token(outbox: Path, to: str, timeout: float = 20) -> str:
    """The token of the link in the newest email sent to ``to`` (the stack writes each email as .eml)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in sorted(outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if message["To"] == to:
                text = message.get_body(preferencelist=("plain",)).get_content()
                return re.search(r"[?&]token=([A-Za-z0-9_.\-]+)", text).group(1)
        time.sleep(0.1)
    raise DemoError(f"no email for {to} in {outbox}")


class ApiClient:
    def __init__(self, api_url: str):
        self.api_url = api_url
        self.session = requests.Session()

    def call(self, method: str, path: str, expected: int, body: dict | None = None) -> dict:
        response = self.session.request(method, self.api_url + path, json=body, timeout=60)
        if response.status_code != expected:
            raise DemoError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json() if response.content else {}

    def log_in(self, email: str, password: str, totp_secret: str | None = None) -> None:
        body = {"email": email, "password": password}
        if totp_secret:  # an operator: the code their authenticator app would show now
            from chalicelib.domain.second_factor import code_at

            body["otp"] = code_at(totp_secret, time.time())
        token = self.call("POST", "/sessions", 201, body)["token"]
        self.session.headers["Authorization"] = f"Bearer {token}"

    def upload_photo(self, official_id: str, path: Path, timeout: float = 60) -> dict:
        """The photo framed whole (the demo photos are cropped to 35:45 already), then wait until it is ready."""
        from PIL import Image

        with Image.open(path) as image:
            crop = {"x": 0, "y": 0, "width": image.width, "height": image.height}
        upload = self.call("POST", f"/officials/{official_id}/photo-uploads", 201, {"crop": crop})
        sent = requests.post(upload["url"], data=upload["fields"],
                             files={"file": (path.name, path.read_bytes(), "image/jpeg")}, timeout=60)
        if sent.status_code not in (200, 201, 204):
            raise DemoError(f"upload of {path.name}: {sent.status_code} {sent.text}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            official = self.call("GET", f"/officials/{official_id}", 200)
            if official["photo"]["status"] == "ready":
                return official
            if official["photo"]["status"] == "rejected":
                raise DemoError(f"photo {path.name} refused: {official['photo']}")
            time.sleep(0.2)
        raise DemoError(f"photo {path.name} not ready in {timeout} s")

    def import_file(self, kind: str, path: Path, timeout: float = 120) -> dict:
        started = self.call("POST", "/admin/reference-imports", 201, {"kind": kind})
        upload = started["upload"]
        with path.open("rb") as content:
            sent = requests.post(upload["url"], data=upload["fields"], files={"file": (path.name, content)},
                                 timeout=120)
        if sent.status_code not in (200, 201, 204):
            raise DemoError(f"upload of {path.name}: {sent.status_code} {sent.text}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.call("GET", f"/admin/reference-imports/{started['id']}", 200)
            if state["status"] in ("done", "failed"):
                if state["status"] == "failed" or state["rejected"]:
                    raise DemoError(f"import of {path.name}: {state}")
                return state
            time.sleep(0.2)
        raise DemoError(f"import of {path.name} did not finish in {timeout} s")
