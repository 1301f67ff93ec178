import pytest

from chalicelib.domain.functions import (
    ADJOINT,
    FUNCTIONS,
    MAIRE,
    MAIRE_ARRONDISSEMENT,
    MAIRE_DELEGUE,
    card_function,
    eligible_functions,
    function_label,
    function_order,
    is_eligible,
    person_order,
)


def test_codes_are_the_api_values():
    assert FUNCTIONS == ("maire", "adjoint", "maire_delegue", "maire_arrondissement")


@pytest.mark.parametrize(
    "function, sex, label",
    [
        (MAIRE, "M", "Maire"),
        (MAIRE, "F", "Maire"),
        (ADJOINT, "M", "Adjoint au maire"),
        (ADJOINT, "F", "Adjointe au maire"),
        (MAIRE_DELEGUE, "M", "Maire délégué"),
        (MAIRE_DELEGUE, "F", "Maire déléguée"),
        (MAIRE_ARRONDISSEMENT, "M", "Maire d'arrondissement"),
        (MAIRE_ARRONDISSEMENT, "F", "Maire d'arrondissement"),
        (ADJOINT, "f", "Adjointe au maire"),
    ],
)
def test_function_label_feminised_from_sex(function, sex, label):
    assert function_label(function, sex) == label


@pytest.mark.parametrize("function, sex", [("conseiller", "M"), ("Maire", "M"), (MAIRE, "X"), (ADJOINT, ""),
                                           (ADJOINT, None)])
def test_function_label_refuses_unknown_values(function, sex):
    with pytest.raises(ValueError):
        function_label(function, sex)


@pytest.mark.parametrize(
    "label, function",
    [
        ("Maire", MAIRE),
        ("MAIRE", MAIRE),
        (" maire ", MAIRE),
        ("1er adjoint au Maire", ADJOINT),
        ("2ème adjoint au Maire", ADJOINT),
        ("3ème adjoint au Maire", ADJOINT),
        ("12ème adjoint au Maire", ADJOINT),
        ("30ème adjoint au Maire", ADJOINT),
        ("2eme adjoint au maire", ADJOINT),
        ("2e adjoint au Maire", ADJOINT),
        ("2ᵉ adjoint au Maire", ADJOINT),
        ("2nd adjoint au Maire", ADJOINT),
        ("1ère adjointe au Maire", ADJOINT),
        ("1re adjointe au maire", ADJOINT),
        ("Première adjointe au maire", ADJOINT),
        ("Deuxième adjoint au maire", ADJOINT),
        ("1er adjoint", ADJOINT),
        ("Adjoint au Maire", ADJOINT),
        ("Adjointe au maire", ADJOINT),
        ("ADJOINT AU MAIRE", ADJOINT),
        ("Maire-adjoint", ADJOINT),
        ("Maire adjointe", ADJOINT),
        ("Maire délégué", MAIRE_DELEGUE),
        ("Maire déléguée", MAIRE_DELEGUE),
        ("MAIRE DELEGUE", MAIRE_DELEGUE),
        ("maire  délégué", MAIRE_DELEGUE),
        ("Maire d'arrondissement", MAIRE_ARRONDISSEMENT),
        ("Maire d’arrondissement", MAIRE_ARRONDISSEMENT),
        ("MAIRE D'ARRONDISSEMENT", MAIRE_ARRONDISSEMENT),
        ("Maire du 5e arrondissement", MAIRE_ARRONDISSEMENT),
        ("Maire de secteur", MAIRE_ARRONDISSEMENT),
    ],
)
def test_eligible_labels(label, function):
    assert card_function(label) == function
    assert eligible_functions([label]) == [function]


@pytest.mark.parametrize(
    "label",
    [
        "",
        "Conseiller délégué",
        "Conseillère déléguée",
        "Conseiller municipal",
        "Adjoint spécial",
        "Adjointe spéciale",
        "1er adjoint spécial",
        "Adjoint au maire délégué",
        "Adjointe au maire déléguée",
        "1er adjoint au maire délégué",
        "Adjoint au maire d'arrondissement",
        "2ème adjoint au Maire d'arrondissement",
        "Adjoint au maire de la commune déléguée",
        "Maire délégué adjoint",
        "Adjoint",
        "Conseiller d'arrondissement",
        "Maire honoraire",
        "Ancien maire",
        "Maire délégué de Annecy-le-Vieux",  # unknown wording: not guessed
        "Président",
        "Maires",
    ],
)
def test_not_eligible_labels(label):
    assert card_function(label) is None
    assert eligible_functions([label]) == []


def test_none_label_is_a_plain_councillor():
    assert card_function(None) is None


def test_two_functions_of_one_person_in_api_order():
    assert eligible_functions(["Maire délégué", "2ème adjoint au Maire"]) == [ADJOINT, MAIRE_DELEGUE]
    assert eligible_functions(["Maire délégué", "Maire", ""]) == [MAIRE, MAIRE_DELEGUE]
    assert eligible_functions(["1er adjoint au Maire", "3ème adjoint au Maire"]) == [ADJOINT]
    assert eligible_functions(["Conseiller délégué", "Adjoint spécial"]) == []
    assert eligible_functions([]) == []


def test_mayors_file_row_gives_maire():
    assert eligible_functions([], in_mayors_file=True) == [MAIRE]
    assert eligible_functions(["Maire délégué"], in_mayors_file=True) == [MAIRE, MAIRE_DELEGUE]
    assert is_eligible(MAIRE, [], in_mayors_file=True)
    assert not is_eligible(MAIRE, ["1er adjoint au Maire"])
    assert is_eligible(ADJOINT, ["1er adjoint au Maire"])


def test_directory_order():
    labels = ["", "Conseiller délégué", "10ème adjoint au Maire", "Maire délégué", "2ème adjoint au Maire",
              "Adjoint au maire", "Maire", "1er adjoint au Maire", "Maire d'arrondissement", "Adjoint spécial"]
    ordered = sorted(labels, key=function_order)
    assert ordered[:7] == ["Maire", "1er adjoint au Maire", "2ème adjoint au Maire", "10ème adjoint au Maire",
                           "Adjoint au maire", "Maire délégué", "Maire d'arrondissement"]
    assert ordered[7] == "Conseiller délégué"
    assert set(ordered[8:]) == {"", "Adjoint spécial"}


def test_person_order_uses_best_function_then_name():
    people = [
        (["", ], "ÉTIENNE", "Noël"),
        (["2ème adjoint au Maire", "Maire délégué"], "BOUVIER", "Françoise"),
        (["Maire délégué"], "DUNAND", "Raphaël"),
        (["Maire"], "DUMAS", "Bénédicte"),
        ([], "ABEL", "Zoé"),
        (["1er adjoint au Maire"], "FAVRE", "Grégoire"),
    ]
    ordered = [last for labels, last, first in sorted(people, key=lambda p: person_order(*p))]
    assert ordered == ["DUMAS", "FAVRE", "BOUVIER", "DUNAND", "ABEL", "ÉTIENNE"]
