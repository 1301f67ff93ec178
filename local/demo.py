"""Demo data for the local stack, loaded through the same HTTP API and S3 path that an operator uses."""
import time
from pathlib import Path

import requests

DEMO_SIREN = "210100533"  # Bourg-en-Bresse (Ain)
MANUFACTURER = {"email": "fabricant@cartes-elus.example.fr", "password": "presse à cartes tricolore 2026",
                "first_name": "Farid", "last_name": "Fabre"}
PREFECTURE = {"email": "prefecture-ain@cartes-elus.example.fr", "password": "guichet des élus de l'Ain",
              "first_name": "Pauline", "last_name": "Préfet", "department_code": "01"}
REFERENCE_FILES = (("communes", "communes.csv"), ("prefectures", "prefectures.csv"),
                   ("rne_cm", "elus-conseillers-municipaux-cm.csv"), ("rne_maires", "elus-maires-mai.csv"))


class DemoError(RuntimeError):
    pass


def load_demo(api_url: str, shared_data: Path) -> dict:
    from chalicelib.services.accounts import create_operator

    # The first operator cannot be created through the API (nobody is logged in yet): as on a fresh deployment.
    create_operator(MANUFACTURER["email"], MANUFACTURER["first_name"], MANUFACTURER["last_name"], "manufacturer",
                    None, password=MANUFACTURER["password"])
    api = ApiClient(api_url)
    api.log_in(MANUFACTURER["email"], MANUFACTURER["password"])
    for kind, name in REFERENCE_FILES:
        api.import_file(kind, shared_data / name)
    create_operator(PREFECTURE["email"], PREFECTURE["first_name"], PREFECTURE["last_name"], "prefecture",
                    PREFECTURE["department_code"], password=PREFECTURE["password"])
    code = api.call("POST", f"/admin/communes/{DEMO_SIREN}/activation-code", 201)
    return {
        "demo": {"siren": DEMO_SIREN, "activation_code": code["activation_code"],
                 "commune_name": code["commune_name"]},
        "operators": {
            "manufacturer": {"email": MANUFACTURER["email"], "password": MANUFACTURER["password"]},
            "prefecture": {"email": PREFECTURE["email"], "password": PREFECTURE["password"],
                           "department_code": PREFECTURE["department_code"]},
        },
    }


class ApiClient:
    def __init__(self, api_url: str):
        self.api_url = api_url
        self.session = requests.Session()

    def call(self, method: str, path: str, expected: int, body: dict | None = None) -> dict:
        response = self.session.request(method, self.api_url + path, json=body, timeout=60)
        if response.status_code != expected:
            raise DemoError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json() if response.content else {}

    def log_in(self, email: str, password: str) -> None:
        token = self.call("POST", "/sessions", 201, {"email": email, "password": password})["token"]
        self.session.headers["Authorization"] = f"Bearer {token}"

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
