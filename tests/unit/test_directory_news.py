"""What an import changed for a commune (domain/directory_news.py)."""
from datetime import datetime, timezone

from chalicelib.domain import directory_news as news
from chalicelib.domain.directory_news import DirectoryNotice, NoticeLine


def person(key, *functions, sex="F", last="DUPONT", first="Anne"):
    return {"person_key": key, "eligible_functions": list(functions), "sex": sex, "last_name": last,
            "first_name": first}


def test_a_deputy_become_mayor_gains_the_mayor_and_loses_the_deputy():
    seen = {"aaaa:maire", "bbbb:adjoint"}
    comparison = news.compare(seen, [person("bbbb", "maire"), person("cccc", "adjoint")])
    assert [(p["person_key"], f) for p, f in comparison.gained] == [("bbbb", "maire"), ("cccc", "adjoint")]
    assert comparison.lost == [("aaaa", "maire"), ("bbbb", "adjoint")]
    assert comparison.seen == {"bbbb:maire", "cccc:adjoint"}


def test_nothing_changed_says_nothing():
    persons = [person("aaaa", "maire"), person("bbbb", "adjoint", "maire_delegue")]
    comparison = news.compare(news.eligible_entries(persons), persons)
    assert comparison.gained == [] and comparison.lost == []


def test_only_the_function_printed_on_the_card_makes_it_to_return():
    class Official:
        official_id, function = "bbbb", "adjoint"

    assert news.function_lost([("bbbb", "adjoint")], Official())
    assert not news.function_lost([("bbbb", "maire_delegue")], Official())


def test_a_line_names_the_person_with_the_feminised_function():
    line = NoticeLine.of_person(person("bbbb", "adjoint", first="Léa", last="ROUSSEAU"), "adjoint")
    assert (line.name, line.function_label) == ("Léa ROUSSEAU", "Adjointe au maire")


def test_a_commune_keeps_its_latest_notices_once_each():
    at = datetime(2026, 12, 3, tzinfo=timezone.utc)
    notices = [DirectoryNotice(str(n), at, "rne_cm") for n in range(news.MAX_KEPT)]
    kept = news.kept(notices, DirectoryNotice("new", at, "rne_maires"))
    assert [n.notice_id for n in kept] == ["new", "0", "1", "2", "3"]
    again = news.kept(kept, DirectoryNotice("new", at, "rne_maires"))
    assert [n.notice_id for n in again] == ["new", "0", "1", "2", "3"]
    assert kept[0].source_label == "fichier des maires" and not kept[0].says_something()
