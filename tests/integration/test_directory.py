"""The national directory (RNE): imports of the Ministry's files, and the commune's search."""
import pytest

from chalicelib.store.tables import DirectoryItem
from tests.conftest import REFERENCE_DATA
from tests.helpers import auth, import_file, load_directory, register_official, registered_agent

CM_HEADER = ("Code du département;Libellé du département;Code de la collectivité à statut particulier;Libellé de la "
             "collectivité à statut particulier;Code de la commune;Libellé de la commune;Nom de l'élu;Prénom de "
             "l'élu;Code sexe;Date de naissance;Code de la catégorie socio-professionnelle;Libellé de la catégorie "
             "socio-professionnelle;Date de début du mandat;Libellé de la fonction;Date de début de la fonction;"
             "Code nationalité\n")


def cm_line(last, first, sex="F", birth="04/02/1968", function="", insee="01053", department="01"):
    return (f"{department};Ain;;;{insee};Bourg-en-Bresse;{last};{first};{sex};{birth};48;Professions intermédiaires;"
            f"15/03/2026;{function};22/03/2026;FRA\n")


@pytest.fixture
def agent(client, aws, operator):
    load_directory(client, operator, REFERENCE_DATA)
    return registered_agent(client, aws, operator)


def test_the_sample_files_import_with_no_error(client, operator):
    cm = import_file(client, operator, "rne_cm", (REFERENCE_DATA / "elus-conseillers-municipaux-cm.csv").read_bytes())
    mayors = import_file(client, operator, "rne_maires", (REFERENCE_DATA / "elus-maires-mai.csv").read_bytes())
    assert (cm["status"], cm["rows"], cm["imported"], cm["rejected"]) == ("done", 26, 26, 0)
    assert (mayors["status"], mayors["imported"]) == ("done", 3)
    overseas = list(DirectoryItem.query("97701"))
    assert len(overseas) == 1 and overseas[0].department_code == ""


def test_directory_lists_my_commune_in_order_with_functions_and_eligibility(client, agent):
    response = client.http.get("/directory", headers=auth(agent))
    assert response.status_code == 200
    items = response.json_body["items"]
    assert [i["last_name"] for i in items][:3] == ["MARCHAND", "GIRAUD", "FONTAINE"]
    assert len(items) == 13  # Bourg-en-Bresse only
    mayor = items[0]
    assert mayor["rne_functions"] == ["Maire"]
    assert mayor["eligible_functions"] == [{"code": "maire", "label": "Maire"}]
    by_name = {i["last_name"]: i for i in items}
    assert by_name["FONTAINE"]["eligible_functions"] == [{"code": "adjoint", "label": "Adjointe au maire"}]
    assert by_name["PERRIN"]["eligible_functions"] == []  # conseiller délégué
    assert by_name["ROUSSEAU"]["eligible_functions"] == []  # plain councillor
    assert not any(i["registered"] for i in items)


def test_search_ignores_accents_case_and_apostrophes(client, agent):
    def names(q):
        return [i["last_name"] for i in client.http.get(f"/directory?q={q}", headers=auth(agent)).json_body["items"]]

    assert names("helene") == ["MARCHAND"]
    assert names("ETIENNE") == ["ÉTIENNE"]
    assert names("boeuf") == ["BŒUF"]
    assert names("ndiaye") == ["N'DIAYE"]
    assert names("d arcy") == ["D'ARCY"]
    assert names("maite cote") == ["CÔTÉ"]
    assert names("zzz") == []


def test_a_person_with_two_functions_is_one_entry_eligible_for_both(client, aws, operator):
    load_directory(client, operator, REFERENCE_DATA)
    from chalicelib.services.directory import merge_persons, commune_partition

    rows, _ = commune_partition("74010")
    persons = {p["last_name"]: p for p in merge_persons(rows)}
    assert persons["BOUVIER"]["rne_functions"] == ["2ème adjoint au Maire", "Maire délégué"]
    assert persons["BOUVIER"]["eligible_functions"] == ["adjoint", "maire_delegue"]
    assert persons["DUMAS"]["eligible_functions"] == ["maire"]


def test_reimporting_the_same_file_changes_nothing(client, operator):
    content = (REFERENCE_DATA / "elus-conseillers-municipaux-cm.csv").read_bytes()
    import_file(client, operator, "rne_cm", content)
    before = sorted((i.insee_code, i.row_key, i.status, i.last_name) for i in DirectoryItem.scan())
    again = import_file(client, operator, "rne_cm", content)
    after = sorted((i.insee_code, i.row_key, i.status, i.last_name) for i in DirectoryItem.scan())
    assert again["imported"] == 26 and before == after


def test_a_newer_file_marks_officials_who_left_as_ended_never_deleted(client, operator, aws):
    first = CM_HEADER + cm_line("MARCHAND", "Hélène", function="Maire") + cm_line("GIRAUD", "Loïc", "M", "11/07/1975",
                                                                               "1er adjoint au Maire")
    import_file(client, operator, "rne_cm", first.encode("utf-8-sig"))
    newer = CM_HEADER + cm_line("MARCHAND", "Hélène", function="Maire")
    import_file(client, operator, "rne_cm", newer.encode("utf-8-sig"))
    items = {i.last_name: i for i in DirectoryItem.query("01053")}
    assert items["MARCHAND"].status == "active"
    assert items["GIRAUD"].status == "ended" and items["GIRAUD"].ended_at is not None
    # and the ended official no longer appears in the commune's directory
    from chalicelib.services.directory import commune_partition, merge_persons

    assert [p["last_name"] for p in merge_persons(commune_partition("01053")[0])] == ["MARCHAND"]


def test_directory_file_variants_and_bad_lines(client, operator):
    content = (CM_HEADER
               + cm_line("MARCHAND", "Hélène", birth="1968-02-04", function="Maire")  # ISO date
               + cm_line("GIRAUD", "Loïc", "M", "11/07/75", "1er adjoint au Maire")  # 2-digit year
               + cm_line("FAUX", "Sexe", "X")  # bad sex
               + cm_line("FAUX", "Date", birth="31/02/1970")  # impossible date
               + cm_line("FAUX", "Insee", insee="ABCDE")
               + "01;Ain;;;01053\n")
    result = import_file(client, operator, "rne_cm", content.encode())  # no BOM this time
    assert (result["imported"], result["rejected"]) == (2, 4)
    assert [e["line"] for e in result["errors"]] == [4, 5, 6, 7]
    assert "sexe" in result["errors"][0]["reason"].lower()
    assert "naissance" in result["errors"][1]["reason"].lower()
    birth = {i.last_name: i.birth_date for i in DirectoryItem.query("01053")}
    assert birth == {"MARCHAND": "1968-02-04", "GIRAUD": "1975-07-11"}


def test_registered_flag_comes_from_the_same_query(client, agent):
    assert register_official(client, agent, "MARCHAND", "maire").status_code == 201
    items = {i["last_name"]: i for i in client.http.get("/directory", headers=auth(agent)).json_body["items"]}
    assert items["MARCHAND"]["registered"] is True and items["GIRAUD"]["registered"] is False


def test_the_directory_is_read_with_one_query_and_no_scan(client, agent):
    from tests.dynamodb_calls import count_dynamodb_calls

    with count_dynamodb_calls() as calls:
        assert client.http.get("/directory?q=gir", headers=auth(agent)).status_code == 200
    operations = [c for c in calls if c != "BatchGetItem"]  # BatchGetItem: the session and its account's revocation
    assert operations == ["Query"], calls
    assert "Scan" not in calls
