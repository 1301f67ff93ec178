"""Printable documents (fpdf2): the hand-over receipt and the activation letters.

fpdf2 is imported here only, by the routes that print: the other API calls never pay for it. The bundled DejaVu fonts
(imaging/fonts) cover every French letter, and the no-break spaces of French punctuation: every text written goes
through ``domain/french.py``'s ``punctuate`` (``_Document``), names and dates through its ``de`` and ``date_in_words``.
"""
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..domain.french import date_in_words, de, punctuate

FONTS = Path(__file__).resolve().parent.parent / "imaging" / "fonts"
BLUE = (0, 0, 145)
RED = (225, 0, 15)


def _document():
    # cold start: fpdf2 390 ms, only the two routes that print need it
    from fpdf import FPDF

    class _Document(FPDF):
        """Every cell's text with the no-break spaces of French punctuation, so that no text can forget them."""

        def cell(self, w=None, h=None, text="", *args, **kwargs):
            return super().cell(w, h, punctuate(text), *args, **kwargs)

        def multi_cell(self, w, h=None, text="", *args, **kwargs):
            return super().multi_cell(w, h, punctuate(text), *args, **kwargs)

    pdf = _Document(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=False)
    pdf.set_margins(20, 15, 20)
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_creator("Portail des cartes d'identité des élus")
    return pdf


def _letterhead(pdf) -> None:
    pdf.set_fill_color(*BLUE)
    pdf.rect(20, 15, 6, 14, style="F")
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(26, 15, 6, 14, style="F")
    pdf.set_fill_color(*RED)
    pdf.rect(32, 15, 6, 14, style="F")
    pdf.set_draw_color(200, 200, 200)
    pdf.rect(20, 15, 18, 14)  # the white band needs an edge on white paper
    pdf.set_draw_color(0, 0, 0)
    pdf.set_xy(42, 15)
    pdf.set_font("DejaVu", "B", 11)
    pdf.multi_cell(80, 5, "RÉPUBLIQUE\nFRANÇAISE")
    pdf.set_xy(120, 16)
    pdf.set_font("DejaVu", "", 9)
    pdf.multi_cell(70, 4.5, "Cartes d'identité des élus\nmaires, adjoints et maires délégués", align="R")


@dataclass(frozen=True)
class ReceiptCard:
    last_name: str
    first_name: str
    function_label: str
    commune_name: str
    department: str
    card_number: str
    handed_over_on: date | None
    # A hand-over to a representative of the town hall (domain/cards.py): {last_name, first_name, quality}. The
    # receipt is then a transfer of responsibility that the representative signs, not the official's own receipt.
    representative: dict | None = None


def hand_over_receipt(cards: list[ReceiptCard], prefecture_name: str) -> bytes:
    pdf = _document()
    pdf.set_title("Récépissé de remise de carte d'identité d'élu")
    for card in cards:
        pdf.add_page()
        _letterhead(pdf)
        pdf.set_xy(20, 45)
        pdf.set_font("DejaVu", "B", 16)
        agent = card.representative
        pdf.multi_cell(170, 8, "Récépissé de remise de la carte d'identité d'élu" + (
            "\net transfert de responsabilité" if agent else ""), align="C")
        pdf.ln(2)
        pdf.set_font("DejaVu", "", 10)
        pdf.multi_cell(170, 5, "Article L.2122-34-1 du code général des collectivités territoriales", align="C")
        pdf.ln(8)
        rows = [
            ("Élu(e)", f"{card.last_name.upper()} {card.first_name}"),
            ("Fonction", card.function_label),
            ("Commune", f"{card.commune_name} — {card.department}"),
            ("Numéro de la carte", card.card_number),
            ("Date de remise", card.handed_over_on.strftime("%d/%m/%Y") if card.handed_over_on else "____ / ____ / ________"),
            ("Remise par", prefecture_name),
        ]
        if agent:
            rows.insert(4, ("Remise à", f"{agent['last_name'].upper()} {agent['first_name']}, {agent['quality']}"))
        for label, value in rows:
            pdf.set_x(25)
            pdf.set_font("DejaVu", "", 11)
            pdf.cell(55, 10, label)
            pdf.set_font("DejaVu", "B", 11)
            pdf.multi_cell(105, 10, value)
        pdf.ln(6)
        pdf.set_font("DejaVu", "", 10)
        pdf.set_x(25)
        if agent:
            pdf.multi_cell(160, 5, f"Je soussigné(e) {agent['first_name']} {agent['last_name'].upper()}, "
                           f"{agent['quality']}, représentant la commune {de(card.commune_name, place=True)}, reconnais avoir reçu "
                           "la carte d'identité d'élu désignée ci-dessus. J'en assume la garde jusqu'à sa remise à son "
                           "titulaire, à qui je m'engage à la remettre en main propre.")
        else:
            pdf.multi_cell(160, 5, "Je soussigné(e) reconnais avoir reçu la carte d'identité d'élu désignée ci-dessus.")
        top = pdf.get_y() + 10
        for x, title in ((25, "Signature du représentant" if agent else "Signature de l'élu(e)"),
                         (110, "Signature et cachet de la préfecture")):
            pdf.set_xy(x, top)
            pdf.set_font("DejaVu", "B", 10)
            pdf.cell(75, 6, title)
            pdf.rect(x, top + 8, 75, 45)
        pdf.set_xy(20, 280)
        pdf.set_font("DejaVu", "", 8)
        pdf.cell(170, 4, "Document à conserver par la préfecture. Un exemplaire peut être remis à l'élu(e).",
                 align="C")
    return bytes(pdf.output())


@dataclass(frozen=True)
class ActivationLetter:
    commune_name: str
    department: str
    siren: str
    activation_code: str
    expires_on: date


def activation_letters(letters: list[ActivationLetter], site_url: str) -> bytes:
    pdf = _document()
    pdf.set_title("Codes d'activation du portail des cartes d'identité des élus")
    for letter in letters:
        pdf.add_page()
        _letterhead(pdf)
        pdf.set_xy(115, 45)
        pdf.set_font("DejaVu", "", 11)
        pdf.multi_cell(80, 5.5, f"Madame, Monsieur le Maire\nMairie {de(letter.commune_name, place=True)}\n"
                               f"Département {letter.department}")
        pdf.set_xy(20, 80)
        pdf.set_font("DejaVu", "B", 11)
        pdf.multi_cell(170, 6, "Objet : votre code d'activation pour commander les cartes d'identité des élus")
        pdf.ln(4)
        pdf.set_font("DejaVu", "", 10.5)
        pdf.multi_cell(170, 5.5, (
            "Madame, Monsieur le Maire,\n\nLes maires, adjoints au maire et maires délégués reçoivent une carte "
            "d'identité tricolore attestant de leurs fonctions (article L.2122-34-1 du code général des collectivités "
            "territoriales). Cette carte est gratuite pour la commune. Pour la commander, la mairie s'inscrit sur le "
            "portail avec les informations ci-dessous."))
        pdf.ln(4)
        pdf.set_fill_color(238, 238, 255)
        top = pdf.get_y()
        pdf.rect(20, top, 170, 26, style="F")
        pdf.set_xy(25, top + 3)
        pdf.set_font("DejaVu", "", 10.5)
        pdf.cell(60, 7, "Numéro SIREN de la commune")
        pdf.set_font("DejaVu", "B", 12)
        pdf.cell(100, 7, letter.siren, new_x="LMARGIN", new_y="NEXT")
        pdf.set_x(25)
        pdf.set_font("DejaVu", "", 10.5)
        pdf.cell(60, 7, "Code d'activation")
        pdf.set_font("DejaVu", "B", 14)
        pdf.cell(100, 7, letter.activation_code, new_x="LMARGIN", new_y="NEXT")
        pdf.set_x(25)
        pdf.set_font("DejaVu", "", 9)
        pdf.cell(160, 6, f"Code valable une seule fois, jusqu'au {date_in_words(letter.expires_on)}.")
        pdf.set_xy(20, top + 32)
        pdf.set_font("DejaVu", "B", 11)
        pdf.cell(170, 6, "Pour vous inscrire", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 10.5)
        steps = [
            f"1. Ouvrez le site {site_url}",
            "2. Dans l'encadré « Inscription au service », cliquez sur « Démarrer l'inscription ».",
            "3. Saisissez le numéro SIREN et le code d'activation ci-dessus, puis les nom, prénom et adresse e-mail "
            "de la personne qui fera les demandes de cartes (élu ou agent de la commune).",
            "4. Vous recevrez un e-mail avec un lien pour créer votre mot de passe. L'adresse e-mail sera votre "
            "identifiant de connexion.",
            "5. Connectez-vous, enregistrez les élus avec leur photo (format JPEG), puis commandez les cartes. "
            "Elles seront livrées à la préfecture, qui vous les remettra.",
        ]
        for step in steps:
            pdf.set_x(20)
            pdf.multi_cell(170, 5.5, step)
            pdf.ln(1)
        pdf.ln(4)
        pdf.set_x(20)
        pdf.multi_cell(170, 5.5, "Ce code est confidentiel : ne le communiquez qu'à la personne chargée des demandes. "
                                 "Un nouveau code peut être demandé au fabricant ; il remplace alors celui-ci.")
    return bytes(pdf.output())
