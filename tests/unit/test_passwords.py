"""The password policy for French users: AZERTY walks, French words and names, the account's own words, and the
reason of a refusal said in French (domain/passwords.py)."""
import pytest

from chalicelib.domain import passwords
from chalicelib.domain.passwords import WeakPassword, check_strength

# What an attacker knows of a Bourg-en-Bresse agent: the commune, its SIREN, the person's names and email.
PERSONAL = ["Bourg-en-Bresse", "210100533", "Rousseau", "Jean-Baptiste", "jb.rousseau"]


def refusal(password: str, personal=PERSONAL) -> str:
    with pytest.raises(WeakPassword) as refused:
        check_strength(password, personal)
    return str(refused.value)


@pytest.mark.parametrize("password", ["azertyuiop", "azertyuiopqsdf", "qsdfghjklmù*", "wxcvbn,;:!12",
                                      "&é\"'(-è_çà)=azerty"])
def test_azerty_keyboard_walks_are_refused(password):
    message = refusal(password)
    assert "caractères" in message or "touches voisines du clavier" in message


def test_a_walk_on_the_french_keyboard_is_refused_as_a_walk_not_as_a_listed_password():
    message = refusal("azertyuiopqsdf")
    assert "touches voisines du clavier" in message
    assert "mot de passe très répandu" not in message


@pytest.mark.parametrize("password, reason", [
    ("motdepasse2026", "mot de passe très répandu"),
    ("Bourg-en-Bresse01", "votre commune"),
    ("jean-baptiste rousseau", "nom, prénom"),
    ("Rousseau 1984 !!", "nom, prénom"),
    ("bonjourbonjour", "trop facile à deviner"),
])
def test_french_guessable_passwords_and_the_users_own_words_are_refused_with_the_reason_in_french(password, reason):
    assert reason in refusal(password)


def test_french_words_and_names_are_known_to_the_check():
    # These would pass with zxcvbn's English lists alone (scored as random letters).
    for password in ("grenouillerie", "chevaliermarguerite"):
        result = passwords._french_zxcvbn()(password, user_inputs=[])
        assert any(m["pattern"] == "dictionary" and m["dictionary_name"].startswith("fr_")
                   for m in result["sequence"]), result["sequence"]


@pytest.mark.parametrize("passphrase", ["cheval lampe rivière bonsoir", "soleil jardin nuage piano",
                                        "fromage vélo tempête cuillère"])
def test_a_passphrase_of_four_french_words_is_accepted(passphrase):
    check_strength(passphrase, PERSONAL)


def test_the_azerty_graph_has_the_french_keyboards_neighbours():
    graph = passwords.azerty_graph()
    left, up_left, up_right, right, down_right, down_left = graph["z"]
    assert (left, up_left, up_right, right, down_right, down_left) == ("aA", "é2", '"3', "eE", "sS", "qQ")
    assert graph["Q"] == graph["q"] and graph["w"][0] == "<>" and graph["m"][3] == "ù%"


def test_the_vendored_french_lists_are_there_and_in_frequency_order():
    words = passwords._words("fr_common_words.txt")
    assert len(words) > 15_000 and words.index("de") < words.index("maison") < words.index("grenouille")
    assert "camille" in passwords._words("fr_given_names.txt")
    assert (passwords.WORDLISTS / "LICENSE.txt").read_text().startswith("Copyright")
