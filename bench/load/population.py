"""The simulated communes and what the back office sets up for them before the run, through the API.

The demo's reference files list 10 communes (data/reference/): too few for a population of town halls. The load test
writes a communes file and a councillors file (RNE) in the published formats, the demo's rows followed by generated
communes (``bench.generate_rne``'s people and council plans), imports both as the card maker does (presigned POST,
S3 trigger), creates préfecture agents for the départements used (the demo has the Ain's only) and asks an
activation code for each commune (``POST /admin/communes/{siren}/activation-code``). Most communes are in the Ain:
its préfecture's index partitions (``01#<status>``) are the popular département's hot keys.
"""
import json
import time
from pathlib import Path

from bench import generate_rne
from chalicelib.domain.second_factor import code_at
from local.demo import DEMO_PHOTOS, REFERENCE_DATA, ApiClient, link_token

# (département, share of the communes): the Ain is the popular one, and has two préfecture agents.
DEPARTMENTS = (("01", 0.7), ("69", 0.15), ("74", 0.15))
PREFECTURE_AGENTS = {"01": 2, "69": 1, "74": 1}
FIRST_NUMBER = 700  # INSEE codes <dept>700 and on: none of the demo's communes
PHOTOS = ("portrait-astronaute.jpg", "portrait-grace-hopper.jpg")


def _luhn_completed(digits: str) -> str:
    from stdnum import luhn

    return digits + luhn.calc_check_digit(digits)


def _letters(insee: str) -> str:
    """The INSEE code spelt in letters (0 -> A, ..., 9 -> J): a commune's name has no digit, and stays unique."""
    return "".join("ABCDEFGHIJ"[int(d)] if d.isdigit() else d for d in insee)


def communes(count: int) -> list[dict]:
    """``count`` communes, over DEPARTMENTS by their shares (the first ones get the rounding)."""
    planned = [(code, round(count * share)) for code, share in DEPARTMENTS]
    planned[0] = (planned[0][0], count - sum(n for _, n in planned[1:]))
    made = []
    for department, how_many in planned:
        for number in range(FIRST_NUMBER, FIRST_NUMBER + how_many):
            insee = f"{department}{number:03d}"
            made.append({"siren": _luhn_completed(f"21{insee}0"), "insee_code": insee,
                         "name": f"Villeneuve-la-Charge {_letters(insee)}", "department_code": department})
    return made


def write_reference_files(folder: Path, population: list[dict], rows_per_commune: int, seed: int = 1) -> dict:
    """The communes file and the councillors file: the demo's rows, then the generated communes'."""
    folder.mkdir(parents=True, exist_ok=True)
    communes_file = folder / "communes.csv"
    demo_communes = (REFERENCE_DATA / "communes.csv").read_text(encoding="utf-8").rstrip("\n")
    communes_file.write_text(demo_communes + "\n" + "".join(
        f"{c['siren']};{c['insee_code']};{c['name']};{c['department_code']}\n" for c in population), encoding="utf-8")
    councillors_file = folder / "elus-conseillers-municipaux-cm.csv"
    demo_rows = (REFERENCE_DATA / "elus-conseillers-municipaux-cm.csv").read_bytes().rstrip(b"\n") + b"\n"
    lines = generate_rne.iter_lines(rows_per_commune * len(population), seed=seed, layout="cm",
                                    insee=[c["insee_code"] for c in population],
                                    commune_names={c["insee_code"]: c["name"] for c in population}, bom=False)
    next(lines)  # the header: the demo's file has it
    councillors_file.write_bytes(demo_rows + b"".join(lines))
    return {"communes": communes_file, "rne_cm": councillors_file}


def set_up(state: dict, folder: Path, count: int, rows_per_commune: int,
           prefecture_agents: dict[str, int] = PREFECTURE_AGENTS) -> dict:
    """Everything the users need, written to ``folder/population.json`` and returned. ``prefecture_agents``:
    how many préfecture agents each département has (the demo's agent of the Ain is the first of its)."""
    population = communes(count)
    files = write_reference_files(folder, population, rows_per_commune)
    outbox = Path(state["outbox_dir"])
    manufacturer = state["operators"]["manufacturer"]
    api = ApiClient(state["api_url"])
    api.log_in(manufacturer["email"], manufacturer["password"], manufacturer["totp_secret"])
    for kind in ("communes", "rne_cm"):
        done = api.import_file(kind, files[kind], timeout=300)
        if kind == "rne_cm" and done["imported"] < rows_per_commune * count:
            raise RuntimeError(f"directory import: {done}")
    prefectures = [{**state["operators"]["prefecture"]}]  # the demo's agent of the Ain
    for department, agents in prefecture_agents.items():
        for number in range(1, agents + 1):
            if department == state["operators"]["prefecture"]["department_code"] and number == 1:
                continue
            email = f"agent{number}@prefecture-{department}.load.example.fr"
            password = f"guichet des cartes d'élus {department} numéro {number}"
            api.call("POST", "/admin/operators", 201, {"email": email, "first_name": "Agent", "last_name":
                                                       f"Préfecture {department}", "role": "prefecture",
                                                       "department_code": department})
            agent = ApiClient(state["api_url"])
            agent.call("POST", "/password", 204, {"token": link_token(outbox, email), "password": password})
            # A new operator's first session serves only to enrol a second factor, as the enrolment page does.
            agent.log_in(email, password)
            secret = agent.call("POST", "/me/second-factor", 201)["secret"]
            agent.call("POST", "/me/second-factor/confirm", 200, {"otp": code_at(secret, time.time())})
            prefectures.append({"email": email, "password": password, "department_code": department,
                                "totp_secret": secret})
    for number, commune in enumerate(population):
        code = api.call("POST", f"/admin/communes/{commune['siren']}/activation-code", 201)
        commune.update(activation_code=code["activation_code"],
                       email=f"secretariat@mairie-{commune['siren']}.load.example.fr",
                       password=f"les cartes tricolores de la mairie numéro {number} sous la pluie")
    population_file = folder / "population.json"
    setup = {"api_url": state["api_url"], "aws_url": state["aws_url"], "outbox_dir": state["outbox_dir"],
             "communes": population, "manufacturer": manufacturer, "prefectures": prefectures,
             "photos": [str(DEMO_PHOTOS / name) for name in PHOTOS],
             "ledger": str(folder / "ledger.jsonl")}
    population_file.write_text(json.dumps(setup, indent=1, ensure_ascii=False))
    return setup
