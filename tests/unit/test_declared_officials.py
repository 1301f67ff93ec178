"""Officials a commune declares before the national directory lists them: the declaration's rules, in plain Python."""
from datetime import date, datetime, timedelta, timezone

import pytest

from chalicelib.domain.changes import Refused
from chalicelib.domain.names import person_key
from chalicelib.domain.officials import (AWAITING_PROOF, DECLARATION_GRACE, DECLARED, PENDING, READY, REFUSED,
                                         VALIDATED, Official)
from chalicelib.domain.rne import cm_row
from chalicelib.domain.roles import COMMUNE, MANUFACTURER, PREFECTURE, Principal

AT = datetime(2026, 4, 2, 9, 30, tzinfo=timezone.utc)
AGENT = Principal("secretariat@mairie-bourg.example.fr", COMMUNE, "210100533", "01", "t", insee_code="01053",
                  commune_name="Bourg-en-Bresse")
PREFECTURE_AIN = Principal("elus@ain.gouv.example.fr", PREFECTURE, None, "01", "t")
PREFECTURE_SAVOIE = Principal("elus@savoie.gouv.example.fr", PREFECTURE, None, "73", "t")
PERSON = {"last_name": "  Le  Gall ", "first_name": "Maëlle", "sex": "f", "birth_date": "1984-06-12",
          "election_date": "2026-03-22"}


def declared(**changes) -> Official:
    return Official.declare(AGENT, {**PERSON, **changes}, "adjoint", AT)


def applied(change) -> Official:
    change.apply()
    return change.entity


def ready_photo(official: Official) -> Official:
    official.photo_key, official.preview_key, official.preview_status = "p.jpg", "c.jpg", READY
    return official


def test_a_declaration_is_keyed_as_the_directory_will_key_the_same_person():
    official = declared()
    assert (official.origin, official.declaration_status, official.function) == (DECLARED, AWAITING_PROOF, "adjoint")
    assert (official.last_name, official.sex, official.mandate_start) == ("Le Gall", "F", "2026-03-22")
    assert official.official_id == person_key("01053", "LE GALL", "Maelle", date(1984, 6, 12))
    # the row a later snapshot of the directory publishes for that person has the same key
    row = cm_row(["01", "Ain", "", "", "01053", "Bourg-en-Bresse", "LE GALL", "Maëlle", "F", "12/06/1984", "48",
                  "Professions intermédiaires", "15/03/2026", "2ème adjoint au Maire", "22/03/2026", "FRA"])
    assert row.person_key == official.official_id
    assert official.eligible_functions == ["adjoint"] and official.department_code == "01"


@pytest.mark.parametrize("changes, field", [
    ({"last_name": " "}, "last_name"),
    ({"sex": "X"}, "sex"),
    ({"birth_date": "12/06/1984"}, "birth_date"),
    ({"birth_date": "2010-01-01"}, "birth_date"),  # 16 at the election
    ({"election_date": "2026-05-01"}, "election_date"),  # after the declaration: in the future
    ({"election_date": "2014-03-23"}, "election_date"),  # no current mandate started then
])
def test_a_declaration_that_cannot_be_true_is_refused_field_by_field(changes, field):
    with pytest.raises(Refused) as refused:
        declared(**changes)
    assert refused.value.code == "invalid_declaration" and field in refused.value.details


def test_a_declared_function_must_give_a_card():
    with pytest.raises(Refused) as refused:
        Official.declare(AGENT, PERSON, "conseiller", AT)
    assert refused.value.details == {"function": "Fonction non ouverte à une carte."}


def test_only_a_validated_declaration_can_be_ordered():
    official = ready_photo(declared())
    assert official.why_not_orderable()[0] == "declaration_not_validated"
    assert "procès-verbal" in official.why_not_orderable()[1]
    applied(official.proof_received("proofs/pv.pdf"))
    assert official.declaration_status == PENDING and "préfecture" in official.why_not_orderable()[1]
    change = official.review_declaration(PREFECTURE_AIN, True, None, AT)
    assert change.expects == {"declaration_status": PENDING}
    applied(change)
    assert (official.declaration_status, official.reviewed_by) == (VALIDATED, "elus@ain.gouv.example.fr")
    assert official.why_not_orderable() is None


def test_a_refused_declaration_cannot_be_ordered_and_says_why():
    official = ready_photo(declared())
    applied(official.proof_received("proofs/pv.pdf"))
    with pytest.raises(Refused) as refused:
        official.review_declaration(PREFECTURE_AIN, False, "  ", AT)
    assert refused.value.code == "invalid_request"
    applied(official.review_declaration(PREFECTURE_AIN, False, "PV illisible", AT))
    assert official.declaration_status == REFUSED
    assert official.why_not_orderable() == ("declaration_not_validated",
                                            "Maëlle Le Gall : la préfecture a refusé la déclaration (PV illisible).")
    with pytest.raises(Refused) as refused:
        official.review_declaration(PREFECTURE_AIN, True, None, AT)
    assert refused.value.code == "declaration_not_pending"
    with pytest.raises(Refused):
        official.proof_received("proofs/pv2.pdf")  # decided: a new proof changes nothing


def test_only_the_prefecture_of_the_departement_reviews_and_only_a_proven_declaration():
    official = declared()
    with pytest.raises(Refused) as refused:
        official.review_declaration(PREFECTURE_AIN, True, None, AT)
    assert refused.value.code == "declaration_not_pending"  # no PV yet
    applied(official.proof_received("proofs/pv.pdf"))
    for someone in (PREFECTURE_SAVOIE, AGENT, Principal("f@fab.example.fr", MANUFACTURER, None, None, "t")):
        with pytest.raises(Refused) as refused:
            official.review_declaration(someone, True, None, AT)
        assert refused.value.code == "not_found"


def test_an_official_of_the_directory_has_no_declaration():
    official = declared()
    official.origin = "rne"
    assert official.why_not_orderable()[0] == "photo_not_ready"
    with pytest.raises(Refused):
        official.proof_received("proofs/pv.pdf")


def test_a_later_directory_import_links_the_declaration_once():
    official = declared()
    change = official.linked_to_directory({"eligible_functions": ["maire_delegue", "adjoint"]}, AT)
    assert change.expects == {"rne_linked_at": None}
    applied(change)
    assert official.eligible_functions == ["adjoint", "maire_delegue"] and official.rne_linked_at == AT
    assert official.linked_to_directory({"eligible_functions": ["adjoint"]}, AT) is None


def test_a_declaration_still_absent_from_the_directory_after_90_days_is_flagged_once():
    official = declared()
    assert official.declaration_overdue(AT + DECLARATION_GRACE - timedelta(seconds=1)) is None
    applied(official.declaration_overdue(AT + DECLARATION_GRACE))
    assert official.overdue_flagged_at == AT + DECLARATION_GRACE
    assert official.declaration_overdue(AT + 2 * DECLARATION_GRACE) is None
    linked = declared()
    applied(linked.linked_to_directory({"eligible_functions": ["adjoint"]}, AT))
    assert linked.declaration_overdue(AT + DECLARATION_GRACE) is None
