"""Who a ProConnect identity may be on the portal: the service authorises the identity itself.

ProConnect says who the person is (``sub``, ``email``, names) and for which organisation (``siret``); it does not know
our accounts. The rules, decided on what was read (the account of that email, the commune of that SIREN):

- a **commune agent**: the SIREN of the ``siret`` (its first nine digits) is the commune's, and the email is that of
  an agent account of that very commune;
- a **préfecture agent**: the ``siret`` is a State administration's (INSEE numbers the State's administrations, the
  préfectures among them, with SIRENs starting with 1; communes start with 21), and the email is that of a préfecture
  account created by the card maker; the account's département is the one it serves. The SIREN is not compared with
  a list of préfectures' SIRENs: the portal has none (the préfectures' reference file has no SIRET), and the account
  created by the card maker for that email is the authorisation;
- the card maker's operators do not sign in with ProConnect (they are not public servants);
- the first sign-in links the identity (``sub``) to the account; later ones must come with the same ``sub`` (an email
  given to someone else at the organisation does not carry the account along).

Every refusal says in French what to do.
"""
import re
from typing import NamedTuple

from . import roles
from .changes import Refused

SCOPES = "openid email given_name usual_name siret"
_SIRET = re.compile(r"\d{14}")


class Identity(NamedTuple):
    """What ProConnect asserted, once the ID token and the userinfo are checked."""

    sub: str
    email: str
    siret: str
    given_name: str | None = None
    usual_name: str | None = None


def siren_of(siret: str) -> str:
    return siret[:9]


def is_state_administration(siren: str) -> bool:
    return siren.startswith("1")


def identity_from_claims(claims: dict) -> Identity:
    """The identity from the userinfo's claims; refused if a claim the rules need is missing or malformed."""
    sub = claims.get("sub")
    email = claims.get("email")
    siret = str(claims.get("siret") or "").replace(" ", "")
    if not isinstance(sub, str) or not sub or not isinstance(email, str) or "@" not in email:
        raise Refused("proconnect_incomplete_identity",
                      "ProConnect n'a pas transmis votre identité complète (adresse e-mail). Réessayez ou utilisez "
                      "votre mot de passe.")
    if not _SIRET.fullmatch(siret):
        raise Refused("proconnect_incomplete_identity",
                      "ProConnect n'a pas transmis le SIRET de votre organisation. Réessayez ou utilisez votre "
                      "mot de passe.")
    return Identity(sub, email.strip().lower(), siret, claims.get("given_name"), claims.get("usual_name"))


def commune_not_registered(commune_name: str | None) -> Refused:
    where = f"La commune {commune_name}" if commune_name else "Votre commune"
    return Refused("commune_not_registered",
                   f"{where} n'est pas encore inscrite au portail. Pour l'inscrire, choisissez « Démarrer "
                   "l'inscription » sur la page d'accueil et saisissez son SIREN et le code d'activation reçu de la "
                   "préfecture par courrier ; vous pourrez ensuite vous identifier avec ProConnect.")


def not_a_commune() -> Refused:
    return Refused("organisation_not_registered",
                   "Votre organisation n'est pas une commune inscrite au portail. Le portail sert aux mairies : si "
                   "vous êtes agent d'une mairie, identifiez-vous avec le compte ProConnect de votre mairie ; pour "
                   "inscrire une commune, choisissez « Démarrer l'inscription » sur la page d'accueil.")


def authorise(identity: Identity, account, commune) -> None:
    """Refuse (``Refused``) unless the identity may open a session as ``account`` (the account of its email, or
    None). ``commune``: the commune of the identity's SIREN as read (None if the SIREN is no commune's)."""
    siren = siren_of(identity.siret)
    if commune is None and not is_state_administration(siren):
        raise not_a_commune()
    if commune is not None:
        # An agent of one commune coming with another's SIRET is told so first, whether that one is registered or not.
        if account is not None and account.role == roles.COMMUNE and account.siren != siren:
            raise Refused("other_commune",
                          "Votre compte ProConnect est rattaché à une autre commune que votre compte du portail : "
                          "identifiez-vous avec le compte ProConnect de votre mairie.")
        if commune.registered_at is None:
            raise commune_not_registered(commune.name)
        if account is None or account.role != roles.COMMUNE:
            raise Refused("not_an_agent",
                          f"Votre adresse {identity.email} n'est pas celle d'un agent de {commune.name} sur le "
                          "portail. Demandez à un agent de votre mairie de vous ajouter (page « Agents »), puis "
                          "identifiez-vous à nouveau.")
    else:
        if account is None or account.role != roles.PREFECTURE:
            raise not_a_commune()
    if account.proconnect_sub is not None and account.proconnect_sub != identity.sub:
        raise Refused("other_identity",
                      "Votre compte du portail est lié à une autre identité ProConnect. Identifiez-vous avec votre "
                      "mot de passe, ou demandez à un agent de votre mairie de vérifier votre adresse.")
