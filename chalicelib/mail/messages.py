"""The emails the portal sends, in French, each as plain text and HTML.

Names, places and dates go through ``domain/french.py`` (« la commune d'Oyonnax », « le 1er mars 2026 »), and every
subject and paragraph through its ``punctuate`` (the no-break spaces before « : ; ! ? » and inside « »)."""
from datetime import date
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from html import escape
from typing import NamedTuple

from ..domain.french import date_in_words, de, punctuate

SERVICE_NAME = "Portail des cartes d'identité des élus"


class Mail(NamedTuple):
    to: str
    subject: str
    text: str
    html: str

    def as_message(self, sender: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = formataddr((SERVICE_NAME, sender))
        message["To"] = self.to
        message["Subject"] = self.subject
        message["Message-ID"] = make_msgid(domain=sender.split("@")[-1])
        message.set_content(self.text)
        message.add_alternative(self.html, subtype="html")
        return message


def _mail(to: str, subject: str, paragraphs: list[str], link: str | None, link_label: str,
          after_link: list[str] | None = None) -> Mail:
    """The mail in both forms; ``after_link``: paragraphs the text form puts after the link."""
    after_link = after_link or []
    return Mail(to=to, subject=punctuate(subject), text=_text(paragraphs, link, after_link),
                html=_html(paragraphs + after_link, link, link_label))


def _html(paragraphs: list[str], link: str | None = None, link_label: str = "") -> str:
    body = "".join(f"<p>{escape(punctuate(p))}</p>" for p in paragraphs)
    if link:
        body += f'<p><a href="{escape(link, quote=True)}">{escape(link_label)}</a></p>'
        body += (f"<p>{punctuate('Si le bouton ne fonctionne pas, copiez ce lien dans votre navigateur :')}"
                 f"<br>{escape(link)}</p>")
    return (
        '<!doctype html><html lang="fr"><head><meta charset="utf-8">'
        f"<title>{escape(SERVICE_NAME)}</title></head><body>{body}"
        f"<p>— {escape(SERVICE_NAME)}</p></body></html>"
    )


def _text(paragraphs: list[str], link: str | None = None, after_link: list[str] | None = None) -> str:
    parts = [punctuate(p) for p in paragraphs]
    if link:
        parts.append(link)
    parts += [punctuate(p) for p in after_link or []]
    parts.append(f"— {SERVICE_NAME}")
    return "\n\n".join(parts) + "\n"


def set_password_mail(to: str, first_name: str, commune_name: str | None, link: str, reason: str, hours: int) -> Mail:
    """reason: registration | invitation | reset | operator."""
    greeting = f"Bonjour {first_name},"
    intro = {
        "registration": f"L'inscription de la commune {de(commune_name or '', place=True)} au service est confirmée. "
        "Votre adresse e-mail est votre identifiant de connexion.",
        "invitation": f"Vous avez été ajouté(e) comme agent de la commune {de(commune_name or '', place=True)}. "
        "Votre adresse e-mail est votre identifiant de connexion.",
        "operator": "Un compte vous a été ouvert sur le portail. Votre adresse e-mail est votre identifiant de connexion.",
        "reset": "Vous avez demandé à changer votre mot de passe.",
    }[reason]
    action = f"Pour choisir votre mot de passe, ouvrez le lien ci-dessous. Il est valable {hours} heures et ne sert qu'une fois."
    outro = (
        "Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : votre mot de passe actuel reste valable."
        if reason == "reset"
        else "Si vous n'attendiez pas ce message, ignorez-le."
    )
    subject = {
        "registration": "Inscription confirmée : créez votre mot de passe",
        "invitation": "Votre accès au portail : créez votre mot de passe",
        "operator": "Votre accès au portail : créez votre mot de passe",
        "reset": "Changement de votre mot de passe",
    }[reason]
    return _mail(to, subject, [greeting, intro, action], link, "Créer mon mot de passe", after_link=[outro])


def order_moved_mail(to: str, commune_name: str, order_label: str, status_label: str, cards: list[str],
                     reason: str | None, link: str) -> Mail:
    paragraphs = [
        "Bonjour,",
        f"La demande de cartes {order_label} de la commune {de(commune_name, place=True)} est maintenant : "
        f"{status_label}.",
        "Cartes concernées : " + ", ".join(cards) + ".",
    ]
    if reason:
        paragraphs.append(f"Motif : {reason}")
    paragraphs.append("Vous pouvez suivre toutes vos demandes sur le portail, page « Demandes ».")
    return _mail(to, f"Demande de cartes : {status_label}", paragraphs, link, "Voir la demande")


def declaration_reviewed_mail(to: str, commune_name: str, official_name: str, function_label: str, accepted: bool,
                              reason: str | None, link: str) -> Mail:
    if accepted:
        paragraphs = ["Bonjour,",
                      f"La préfecture a validé la déclaration {de(official_name)} ({function_label}) faite par la "
                      f"commune {de(commune_name, place=True)}.",
                      "Sa carte peut maintenant être demandée, dès que sa photo est prête."]
        subject = f"Déclaration validée : {official_name}"
    else:
        paragraphs = ["Bonjour,",
                      f"La préfecture a refusé la déclaration {de(official_name)} ({function_label}) faite par la "
                      f"commune {de(commune_name, place=True)}.",
                      f"Motif : {reason}",
                      "Vous pouvez retirer cet élu et le déclarer à nouveau avec les bonnes informations, ou "
                      "attendre qu'il figure au répertoire national des élus."]
        subject = f"Déclaration refusée : {official_name}"
    return _mail(to, subject, paragraphs, link, "Voir les élus")


def directory_changed_mail(to: str, commune_name: str, source_label: str, newly_eligible: list[str],
                           cards_to_return: list[str], orders_flagged: list[str], link: str) -> Mail:
    """What an import of the national directory changed for a commune; each list holds lines already written."""
    paragraphs = ["Bonjour,",
                  f"Le répertoire national des élus ({source_label}) a été mis à jour. Pour la commune "
                  f"{de(commune_name, place=True)} :"]
    if newly_eligible:
        paragraphs.append("Élus pouvant désormais recevoir une carte : " + " ; ".join(newly_eligible) + ".")
        paragraphs.append("Enregistrez-les sur le portail (page « Élus », « Enregistrer un élu ») pour leur "
                          "commander une carte.")
    if cards_to_return:
        paragraphs.append("Cartes à restituer à la préfecture, la fonction qu'elles certifient n'étant plus "
                          "détenue : " + " ; ".join(cards_to_return) + ".")
    if orders_flagged:
        paragraphs.append("Demandes en cours concernées par une fin de fonction, à vérifier : "
                          + " ; ".join(orders_flagged) + ".")
    if newly_eligible and not (cards_to_return or orders_flagged):
        subject = (f"Répertoire des élus : {len(newly_eligible)} élu(s) peuvent recevoir une carte"
                   if len(newly_eligible) > 1 else "Répertoire des élus : un élu peut recevoir une carte")
    elif cards_to_return and not newly_eligible:
        subject = "Répertoire des élus : cartes à restituer"
    else:
        subject = "Répertoire des élus : changements pour votre commune"
    return _mail(to, subject, paragraphs, link, "Voir sur le portail")


def card_declared_mail(to: str, commune_name: str, card_number: str, official_name: str, function_label: str,
                       status_label: str, on: str, circumstances: str, police_report: str | None, link: str) -> Mail:
    """To a préfecture's agents: a card of their département was declared lost or stolen by its commune."""
    day = f", le {date_in_words(date.fromisoformat(on[:10]))}" if on else ""
    paragraphs = ["Bonjour,",
                  f"La commune {de(commune_name, place=True)} a déclaré {status_label} la carte n° {card_number} "
                  f"{de(official_name)} ({function_label}){day}.",
                  f"Circonstances : {circumstances}"]
    if police_report:
        paragraphs.append(f"Référence du dépôt de plainte : {police_report}")
    paragraphs.append("La carte ne peut plus être remise ; une carte de remplacement peut être commandée par la "
                      "commune. Si elle est retrouvée, elle est à détruire.")
    return _mail(to, f"Carte d'élu {status_label} : n° {card_number}", paragraphs, link, "Voir la carte")


def cards_to_return_mail(to: str, commune_name: str, cards: list[str], link: str) -> Mail:
    """To a commune's agents: cards replaced by a new order, to bring back to the préfecture."""
    paragraphs = ["Bonjour,",
                  f"Une nouvelle carte a été commandée pour la commune {de(commune_name, place=True)} en "
                  "remplacement d'une carte "
                  "encore valide. La carte remplacée est à restituer à la préfecture : " + " ; ".join(cards) + ".",
                  "La liste des cartes à restituer figure sur le portail, page « Cartes »."]
    return _mail(to, "Cartes d'élus à restituer à la préfecture", paragraphs, link, "Voir les cartes")


def login_attack_mail(to: str, first_name: str, failures: int, minutes: int, link: str) -> Mail:
    """To the holder of an account whose password many failed logins tried (services/account_mails.py)."""
    paragraphs = [f"Bonjour {first_name},",
                  f"Au moins {failures} tentatives de connexion à votre compte avec un mot de passe erroné ont eu lieu "
                  f"ces {minutes} dernières minutes. Si ce n'était pas vous, quelqu'un essaie peut-être de deviner "
                  "votre mot de passe.",
                  "Votre compte n'est pas bloqué : vous pouvez toujours vous connecter depuis votre appareil habituel. "
                  "Les essais répétés depuis une même connexion y sont ralentis.",
                  "Si votre mot de passe est court ou sert aussi ailleurs, changez-le depuis la page « Mot de passe "
                  "oublié » : cela ferme aussi toutes vos sessions ouvertes."]
    return _mail(to, "Tentatives de connexion à votre compte", paragraphs, link, "Changer mon mot de passe")


def code_guessing_mail(to: str, commune_name: str, siren: str, attempts: int, hours: int, to_agent: bool) -> Mail:
    """Many wrong activation codes for one commune: to its agents, or, before it has any, to its préfecture."""
    who = ("votre commune" if to_agent else f"la commune {de(commune_name, place=True)} (SIREN {siren}), qui n'est "
           "pas encore inscrite et n'a donc pas d'agent à prévenir")
    paragraphs = ["Bonjour,",
                  f"Au moins {attempts} codes d'activation erronés ont été saisis ces {hours} dernières heures pour "
                  f"{who}. Quelqu'un essaie peut-être de deviner le code envoyé par courrier.",
                  "Le code compte 16 caractères : il ne peut pas être deviné ainsi, et la commune peut toujours "
                  "s'inscrire avec le code reçu (au pire après une minute d'attente).",
                  "Si la commune n'a pas reçu son courrier, ou craint que son code ait été vu, le fabricant des "
                  "cartes peut émettre un nouveau code : l'ancien cesse alors de fonctionner."]
    return _mail(to, f"Codes d'activation erronés pour {commune_name}", paragraphs, None, "")


def invitation_refused_mail(to: str, commune_name: str, site_url: str) -> Mail:
    """To an address a commune's agent invited although it already has an account (services/accounts.py)."""
    paragraphs = ["Bonjour,",
                  f"Un agent de la commune {de(commune_name, place=True)} a voulu vous ajouter comme agent de sa "
                  "commune sur le portail. Votre adresse e-mail y a déjà un compte : elle ne peut pas en avoir un second, et cette "
                  "invitation n'a rien changé à votre compte.",
                  "Si vous devez agir pour cette commune, convenez avec elle d'une autre adresse. Si vous ne "
                  "connaissez pas cette commune, ignorez ce message."]
    return _mail(to, f"Invitation de la commune {de(commune_name, place=True)}", paragraphs, site_url,
                 "Ouvrir le portail")
