"""Synthetic national directory of elected officials (RNE) at whole-country scale.

    python -m bench.generate_rne --rows 500000 --out var/rne-500k.csv [--seed 1] [--layout cm|maires]
                                 [--insee 01053,74010 [--communes data/reference/communes.csv]]

Writes the exact published format (see docs/officials.md): `;`-separated UTF-8, the 16-column councillors file
(with a BOM, like the published one) or the 14-column mayors file. Deterministic for a given seed; streaming: lines are
written in small batches as they are produced, the file is never held in memory.

What the councillors file holds: about 14 rows per commune, so 500,000 rows cover about 35,000 communes, spread over the
96 metropolitan départements (2A/2B included) and the overseas collectivities (97x/98x rows have an empty département
code and fill the two "collectivité" columns). Each commune has a mayor, ordinal deputies ("1er adjoint au Maire",
"2ème adjoint au Maire", ...), delegated councillors, plain councillors (empty function); some communes nouvelles have
delegated mayors, often a deputy or the mayor, who then appear on two rows; the largest councils have arrondissement
mayors. Names carry French letters, apostrophes and hyphens. The mayors file has one row per commune.

With ``--insee``, the rows are shared evenly between the given communes (names from ``--communes``, a file in the
commune reference format, when given). Past about 95,000 communes, INSEE codes repeat.
"""
import argparse
import os
import random
import sys
from datetime import date, timedelta
from typing import BinaryIO, Iterator, Optional, Sequence

CM_HEADER = (
    "Code du département;Libellé du département;Code de la collectivité à statut particulier;"
    "Libellé de la collectivité à statut particulier;Code de la commune;Libellé de la commune;Nom de l'élu;"
    "Prénom de l'élu;Code sexe;Date de naissance;Code de la catégorie socio-professionnelle;"
    "Libellé de la catégorie socio-professionnelle;Date de début du mandat;Libellé de la fonction;"
    "Date de début de la fonction;Code nationalité"
)
MAIRES_HEADER = (
    "Code du département;Libellé du département;Code de la collectivité à statut particulier;"
    "Libellé de la collectivité à statut particulier;Code de la commune;Libellé de la commune;Nom de l'élu;"
    "Prénom de l'élu;Code sexe;Date de naissance;Code de la catégorie socio-professionnelle;"
    "Libellé de la catégorie socio-professionnelle;Date de début du mandat;Date de début de la fonction"
)
BOM = "\ufeff"
BATCH_LINES = 2000

DEPARTMENTS = (
    ("01", "Ain"), ("02", "Aisne"), ("03", "Allier"), ("04", "Alpes-de-Haute-Provence"), ("05", "Hautes-Alpes"),
    ("06", "Alpes-Maritimes"), ("07", "Ardèche"), ("08", "Ardennes"), ("09", "Ariège"), ("10", "Aube"),
    ("11", "Aude"), ("12", "Aveyron"), ("13", "Bouches-du-Rhône"), ("14", "Calvados"), ("15", "Cantal"),
    ("16", "Charente"), ("17", "Charente-Maritime"), ("18", "Cher"), ("19", "Corrèze"), ("2A", "Corse-du-Sud"),
    ("2B", "Haute-Corse"), ("21", "Côte-d'Or"), ("22", "Côtes-d'Armor"), ("23", "Creuse"), ("24", "Dordogne"),
    ("25", "Doubs"), ("26", "Drôme"), ("27", "Eure"), ("28", "Eure-et-Loir"), ("29", "Finistère"), ("30", "Gard"),
    ("31", "Haute-Garonne"), ("32", "Gers"), ("33", "Gironde"), ("34", "Hérault"), ("35", "Ille-et-Vilaine"),
    ("36", "Indre"), ("37", "Indre-et-Loire"), ("38", "Isère"), ("39", "Jura"), ("40", "Landes"),
    ("41", "Loir-et-Cher"), ("42", "Loire"), ("43", "Haute-Loire"), ("44", "Loire-Atlantique"), ("45", "Loiret"),
    ("46", "Lot"), ("47", "Lot-et-Garonne"), ("48", "Lozère"), ("49", "Maine-et-Loire"), ("50", "Manche"),
    ("51", "Marne"), ("52", "Haute-Marne"), ("53", "Mayenne"), ("54", "Meurthe-et-Moselle"), ("55", "Meuse"),
    ("56", "Morbihan"), ("57", "Moselle"), ("58", "Nièvre"), ("59", "Nord"), ("60", "Oise"), ("61", "Orne"),
    ("62", "Pas-de-Calais"), ("63", "Puy-de-Dôme"), ("64", "Pyrénées-Atlantiques"), ("65", "Hautes-Pyrénées"),
    ("66", "Pyrénées-Orientales"), ("67", "Bas-Rhin"), ("68", "Haut-Rhin"), ("69", "Rhône"), ("70", "Haute-Saône"),
    ("71", "Saône-et-Loire"), ("72", "Sarthe"), ("73", "Savoie"), ("74", "Haute-Savoie"), ("75", "Paris"),
    ("76", "Seine-Maritime"), ("77", "Seine-et-Marne"), ("78", "Yvelines"), ("79", "Deux-Sèvres"), ("80", "Somme"),
    ("81", "Tarn"), ("82", "Tarn-et-Garonne"), ("83", "Var"), ("84", "Vaucluse"), ("85", "Vendée"), ("86", "Vienne"),
    ("87", "Haute-Vienne"), ("88", "Vosges"), ("89", "Yonne"), ("90", "Territoire de Belfort"), ("91", "Essonne"),
    ("92", "Hauts-de-Seine"), ("93", "Seine-Saint-Denis"), ("94", "Val-de-Marne"), ("95", "Val-d'Oise"),
)
DEPARTMENT_LABELS = dict(DEPARTMENTS)
# Overseas: collectivity code, label, commune numbers (the last two digits of the INSEE code).
OVERSEAS = (
    ("971", "Guadeloupe", range(1, 35)),
    ("972", "Martinique", range(1, 35)),
    ("973", "Guyane", range(1, 23)),
    ("974", "La Réunion", range(1, 25)),
    ("975", "Saint-Pierre-et-Miquelon", range(1, 3)),
    ("976", "Mayotte", range(1, 18)),
    ("977", "Saint-Barthélemy", range(1, 2)),
    ("978", "Saint-Martin", range(1, 2)),
    ("987", "Polynésie française", range(11, 59)),
    ("988", "Nouvelle-Calédonie", range(1, 34)),
)
OVERSEAS_LABELS = {code: label for code, label, _ in OVERSEAS}
OVERSEAS_CODES = tuple(f"{code}{number:02d}" for code, _, numbers in OVERSEAS for number in numbers)
OVERSEAS_SHARE = len(OVERSEAS_CODES) / 35000

# Council sizes (CGCT L.2121-2, by population) with weights close to the number of communes of each size.
COUNCIL_SIZES = (7, 11, 15, 19, 23, 27, 29, 33, 35, 39, 43, 45, 49, 53, 55, 59, 61, 65, 69, 73, 101, 163)
COUNCIL_WEIGHTS = (
    1000, 4200, 2800, 750, 400, 270, 300, 150, 50, 30, 20, 10, 10, 5, 5, 2, 2, 2, 2, 0.1, 0.1, 0.1,
)

LAST_NAMES = (
    "MARTIN", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD", "DURAND", "DUBOIS", "MOREAU", "LAURENT", "SIMON",
    "MICHEL", "LEFÈVRE", "LEROY", "ROUX", "DAVID", "BERTRAND", "MOREL", "FOURNIER", "GIRARD", "BONNET", "DUPONT",
    "LAMBERT", "FONTAINE", "ROUSSEAU", "VINCENT", "MULLER", "LEFEBVRE", "FAURE", "ANDRÉ", "MERCIER", "BLANC",
    "GUÉRIN", "BOYER", "GARNIER", "CHEVALIER", "FRANÇOIS", "LEGRAND", "GAUTHIER", "GARCIA", "PERRIN", "ROBIN",
    "CLÉMENT", "MORIN", "NICOLAS", "HENRY", "ROUSSEL", "MATHIEU", "GAUTIER", "MASSON", "MARCHAND", "DUVAL", "DENIS",
    "DUMONT", "MARIE", "LEMAIRE", "NOËL", "MEYER", "DUFOUR", "MEUNIER", "BRUN", "BLANCHARD", "GIRAUD", "JOLY",
    "RIVIÈRE", "LUCAS", "BRUNET", "GAILLARD", "BARBIER", "ARNAUD", "MARTINEZ", "GÉRARD", "ROCHE", "RENARD",
    "SCHMITT", "ROY", "LEROUX", "COLIN", "VIDAL", "CARON", "PICARD", "ROGER", "FABRE", "AUBERT", "LEMOINE",
    "RENAUD", "DUMAS", "LACROIX", "OLIVIER", "PHILIPPE", "BOURGEOIS", "PIERRE", "BENOÎT", "REY", "LECLERC",
    "PAYET", "ROLLAND", "LECLERCQ", "GUILLAUME", "LECOMTE", "LÓPEZ", "JEAN", "DUPUY", "GUILLOT", "HUBERT",
    "BERGER", "CARPENTIER", "SANCHEZ", "DUPUIS", "MOULIN", "LOUIS", "DESCHAMPS", "HUET", "VASSEUR", "PEREZ",
    "BOUCHER", "FLEURY", "ROYER", "KLEIN", "JACQUET", "ADAM", "PARIS", "POIRIER", "MARTY", "AUBRY", "GUYOT",
    "CARRÉ", "CHARLES", "RENAULT", "CHARPENTIER", "MÉNARD", "MAILLARD", "BARON", "BERTIN", "BAILLY", "HERVÉ",
    "SCHNEIDER", "FERNANDEZ", "LE GALL", "COLLET", "LÉGER", "BOUVIER", "JULIEN", "PRÉVOST", "MILLET", "PERROT",
    "DANIEL", "LE ROUX", "COUSIN", "GERMAIN", "BRETON", "BESSON", "LANGLOIS", "RÉMY", "LE GOFF", "PELLETIER",
    "LÉVÊQUE", "PERRIER", "LEBLANC", "BARRÉ", "LEBRUN", "MARCHAL", "WEBER", "MALLET", "HAMON", "BOULANGER",
    "JACOB", "MONNIER", "MICHAUD", "RODRIGUEZ", "GUICHARD", "GILLET", "ÉTIENNE", "GRONDIN", "POULAIN", "TESSIER",
    "CHEVALLIER", "COLLIN", "CHAUVIN", "DA SILVA", "BOUCHET", "GAY", "LEMAÎTRE", "BÉNARD", "MARÉCHAL", "HUMBERT",
    "REYNAUD", "ANTOINE", "HOARAU", "PERRET", "BARTHÉLEMY", "CORDIER", "PICHON", "LEJEUNE", "GILBERT", "LAMY",
    "DELAUNAY", "PASQUIER", "CARLIER", "LAPORTE", "N'DIAYE", "D'ARCY", "D'ALMEIDA", "BŒUF", "CŒUR", "LŒILLET",
    "CÔTÉ", "MÉTAYER", "PÉRIGNON", "DE LA FONTAINE", "DU PLESSIS", "SAINT-ANGE", "LE GALL-KERVELLA",
    "MARTIN-DUPONT", "KERGOAT", "ÉLOÏ", "HÉBRARD", "GRÉAUX", "MERMILLOD", "PACCARD", "VEYRAT", "DUNAND",
    "O'NEILL", "ÇELIK", "NGUYỄN", "MÜLLER", "JOSÉ", "TAÏEB", "AÏT-ALI", "TEMARII", "WAMYTAN",
)
MALE_FIRST_NAMES = (
    "Jean", "Pierre", "Michel", "André", "Philippe", "Alain", "Jacques", "Bernard", "Patrick", "Daniel", "Christian",
    "Gérard", "François", "Éric", "Frédéric", "Laurent", "Stéphane", "Pascal", "Thierry", "Christophe", "Nicolas",
    "Olivier", "Sébastien", "Didier", "Dominique", "Jérôme", "Hervé", "Yannick", "Loïc", "Noël", "Raphaël",
    "Grégoire", "Benoît", "Joël", "Gaël", "Anaël", "Cédric", "Rémi", "Aurélien", "Jérémy", "Mathéo", "Théo",
    "Jean-Baptiste", "Jean-François", "Jean-Luc", "Jean-Marc", "Jean-Pierre", "Marc-Antoine", "Pierre-Yves",
    "Hugues", "Régis", "Aimé", "Anaïs", "Moussa", "Mamadou", "Karim", "Youssef", "Ahmed", "Mickaël", "Yves",
    "Guy", "Félix", "Léon", "Émile", "Jules", "Zoë", "Ludovic", "Maël", "Anthony", "Kévin", "Maxime", "Hugo",
    "Lucas", "Arthur", "Gabriel", "Clément", "Bruno", "Serge", "René", "Marcel", "Roger", "Francis",
)
FEMALE_FIRST_NAMES = (
    "Marie", "Nathalie", "Isabelle", "Sylvie", "Catherine", "Françoise", "Christine", "Monique", "Valérie",
    "Sandrine", "Véronique", "Sophie", "Martine", "Nicole", "Céline", "Stéphanie", "Hélène", "Chantal", "Brigitte",
    "Patricia", "Corinne", "Laurence", "Anne", "Émilie", "Élodie", "Aurélie", "Gaëlle", "Maïté", "Chloé", "Léa",
    "Inès", "Zoé", "Bénédicte", "Cécile", "Anaïs", "Maëlys", "Noémie", "Héloïse", "Agnès", "Geneviève", "Solène",
    "Mélanie", "Séverine", "Marie-Claude", "Marie-Christine", "Anne-Sophie", "Anne-Marie", "Marie-Thérèse",
    "Marie-Hélène", "Jeanne", "Joëlle", "Danièle", "Michèle", "Renée", "Béatrice", "Thérèse", "Aïcha", "Fatoumata",
    "Nadia", "Leïla", "Camille", "Manon", "Océane", "Clémence", "Laëtitia", "Pénélope", "Eugénie", "Cléa", "Élise",
    "Irène", "Odile", "Josiane", "Ghislaine", "Mireille", "Josée", "Annick", "Yvette", "Colette", "Paulette",
)
COMMUNE_PREFIXES = (
    "", "", "", "", "Saint-", "Saint-", "Sainte-", "Le ", "La ", "Les ", "L'", "Villeneuve-", "Neuville-",
    "Mont-", "Fontaine-", "Châteauneuf-", "Notre-Dame-de-", "Val-d'",
)
COMMUNE_STEMS = (
    "Aubin", "Étienne", "Orée", "Bois", "Vallon", "Rivière", "Chêne", "Écluse", "Île", "Aulnay", "Brévannes",
    "Cœuvres", "Aÿ", "Ézy", "Gée", "Pérouse", "Clément", "Quentin", "Genès", "Hilaire", "Jouy", "Lévignac",
    "Moûtiers", "Nœux", "Orgères", "Prémery", "Quéven", "Rœschwoog", "Sées", "Thônes", "Uzès", "Vézelay",
    "Wœrth", "Yèbles", "Zélande", "Barthélemy", "Mesnil", "Ménil", "Préaux", "Essarts", "Ormes", "Molières",
)
COMMUNE_SUFFIXES = (
    "", "", "", "", "", "-sur-Loire", "-en-Bresse", "-lès-Bains", "-sur-Mer", "-d'Azergues", "-le-Château",
    "-aux-Bois", "-de-Rivière", "-en-Vexin", "-sous-Forêt", "-la-Forêt", "-l'Église", "-du-Lac",
)
SOCIO_PROFESSIONAL = (
    ("10", "Agriculteurs exploitants"), ("21", "Artisans"), ("22", "Commerçants et assimilés"),
    ("23", "Chefs d'entreprise de 10 salariés ou plus"), ("31", "Professions libérales"),
    ("33", "Cadres de la fonction publique"), ("34", "Professeurs, professions scientifiques"),
    ("37", "Cadres administratifs et commerciaux d'entreprise"), ("38", "Ingénieurs et cadres techniques d'entreprise"),
    ("42", "Professeurs des écoles, instituteurs et assimilés"),
    ("43", "Professions intermédiaires de la santé et du travail social"), ("48", "Professions intermédiaires"),
    ("52", "Employés civils et agents de service de la fonction publique"),
    ("54", "Employés administratifs d'entreprise"),
    ("56", "Personnels des services directs aux particuliers"), ("62", "Ouvriers qualifiés de type industriel"),
    ("69", "Ouvriers agricoles"), ("74", "Anciens cadres"), ("75", "Anciennes professions intermédiaires"),
    ("78", "Anciens employés"), ("84", "Élèves, étudiants"), ("86", "Autres personnes sans activité professionnelle"),
)
EU_NATIONALITIES = ("BEL", "DEU", "ESP", "ITA", "PRT", "NLD", "POL", "ROU")

MAYOR = "Maire"
DELEGATED_MAYOR = "Maire délégué"
ARRONDISSEMENT_MAYOR = "Maire d'arrondissement"
DELEGATED_COUNCILLOR = "Conseiller délégué"
COUNCILLOR = ""
ELECTION_DAY = date(2026, 3, 15)
SECOND_ROUND = date(2026, 3, 22)


def adjoint_label(rank: int) -> str:
    return f"{rank}{'er' if rank == 1 else 'ème'} adjoint au Maire"


def _fr(day: date) -> str:
    return day.strftime("%d/%m/%Y")


# --- One commune --------------------------------------------------------------------------------------------------
def _commune_rng(seed: int, index: int) -> random.Random:
    return random.Random(seed * 1_000_003 + index)


def _plan(rng: random.Random, size: Optional[int] = None) -> list[list[str]]:
    """The function labels of each person of one council; a person with two labels has two rows."""
    if size is None:
        size = rng.choices(COUNCIL_SIZES, COUNCIL_WEIGHTS)[0]
    persons: list[list[str]] = [[MAYOR]]
    most = max(1, int(size * 0.3))  # at most 30 % of the council (CGCT L.2122-2)
    adjoints = min(size - 1, max(1, most - rng.choice((0, 0, 0, 1, 1, 2))))
    persons += [[adjoint_label(rank)] for rank in range(1, adjoints + 1)]
    if rng.random() < 0.07:  # a commune nouvelle with delegated mayors
        for number in range(rng.randint(1, 4)):
            if number == 0 and rng.random() < 0.3:
                persons[0].append(DELEGATED_MAYOR)  # the mayor is also delegated mayor of the former commune
            elif adjoints > number and rng.random() < 0.5:
                persons[1 + number].append(DELEGATED_MAYOR)
            else:
                persons.append([DELEGATED_MAYOR])
    if size >= 69:
        persons += [[ARRONDISSEMENT_MAYOR] for _ in range(min(size // 10, 16))]
    persons += [[DELEGATED_COUNCILLOR] for _ in range(rng.randint(0, size // 8))]
    persons += [[COUNCILLOR] for _ in range(max(0, size - len(persons)))]
    return persons


def _plan_rows(persons: list[list[str]]) -> int:
    return sum(len(labels) for labels in persons)


def _commune_name(rng: random.Random) -> str:
    prefix = rng.choice(COMMUNE_PREFIXES)
    stem = rng.choice(COMMUNE_STEMS)
    if prefix == "L'" and stem[0] not in "AEIOUYÉÈÊÎÔÛÂŒ":
        prefix = "Le "
    if prefix == "Val-d'" and stem[0] not in "AEIOUYÉÈÊÎÔÛÂŒ":
        prefix = "Val-de-"
    return prefix + stem + rng.choice(COMMUNE_SUFFIXES)


def _birth_date(rng: random.Random, mandate: date) -> date:
    year = int(rng.triangular(1938, mandate.year - 19, 1964))
    return date(year, 1, 1) + timedelta(days=rng.randrange(365))


def _commune_lines(rng, persons, place, layout, limit) -> Iterator[str]:
    """The lines of one commune, at most ``limit``. ``place`` is the 5 leading columns plus the commune label."""
    mandate = ELECTION_DAY if rng.random() < 0.7 else SECOND_ROUND
    if rng.random() < 0.01:  # a by-election
        mandate = ELECTION_DAY + timedelta(days=rng.randint(60, 240))
    installation = mandate + timedelta(days=rng.randint(5, 13))
    alternate = rng.choice("MF")
    written = 0
    for index, labels in enumerate(persons):
        if index == 0:
            sex = "F" if rng.random() < 0.22 else "M"
        elif labels[0].endswith("adjoint au Maire"):  # parity of the deputies' list
            alternate = "F" if alternate == "M" else "M"
            sex = alternate
        else:
            sex = rng.choice("MF")
        first = rng.choice(FEMALE_FIRST_NAMES if sex == "F" else MALE_FIRST_NAMES)
        last = rng.choice(LAST_NAMES)
        if rng.random() < 0.03:
            last = f"{last}-{rng.choice(LAST_NAMES)}"
        born = _fr(_birth_date(rng, mandate))
        csp_code, csp_label = rng.choice(SOCIO_PROFESSIONAL)
        nationality = "FRA" if labels != [COUNCILLOR] or rng.random() < 0.98 else rng.choice(EU_NATIONALITIES)
        person = f"{place};{last};{first};{sex};{born};{csp_code};{csp_label};{_fr(mandate)}"
        for label in labels:
            if written == limit:
                return
            start = installation if label else None
            if label and rng.random() < 0.02:
                start = installation + timedelta(days=rng.randint(30, 200))  # a later election to the function
            if layout == "maires":
                yield f"{person};{_fr(start)}\n"
            else:
                yield f"{person};{label};{_fr(start) if start else ''};{nationality}\n"
            written += 1


# --- Communes of the whole country --------------------------------------------------------------------------------
def _place(insee: str, name: str) -> str:
    if insee[:2] in ("97", "98"):
        collectivity = insee[:3]
        return f";;{collectivity};{OVERSEAS_LABELS.get(collectivity, '')};{insee};{name}"
    department = insee[:2]
    return f"{department};{DEPARTMENT_LABELS.get(department, '')};;;{insee};{name}"


def _synthetic_codes(count: int, rng: random.Random) -> list[str]:
    """``count`` INSEE codes over every département, overseas at the end (empty département code sorts last)."""
    overseas = min(len(OVERSEAS_CODES), count // 2, max(2, round(count * OVERSEAS_SHARE)))
    metropolitan = count - overseas
    codes = []
    for position, (department, _) in enumerate(DEPARTMENTS):
        share = metropolitan // len(DEPARTMENTS) + (1 if position < metropolitan % len(DEPARTMENTS) else 0)
        numbers = []
        while len(numbers) < share:  # beyond 999 communes per département, codes repeat
            numbers += sorted(rng.sample(range(1, 1000), min(999, share - len(numbers))))
        codes += [f"{department}{number:03d}" for number in numbers]
    codes += sorted(rng.sample(OVERSEAS_CODES, overseas))
    return codes


def read_commune_names(path: str) -> dict[str, str]:
    """INSEE code -> name, from a file in the commune reference format (siren;code_insee;nom;code_departement)."""
    names = {}
    with open(path, encoding="utf-8-sig") as lines:
        next(lines, None)
        for line in lines:
            fields = line.rstrip("\r\n").split(";")
            if len(fields) >= 3:
                names[fields[1].strip().upper()] = fields[2].strip()
    return names


def iter_lines(
    rows: int,
    seed: int = 1,
    layout: str = "cm",
    insee: Optional[Sequence[str]] = None,
    commune_names: Optional[dict[str, str]] = None,
    bom: Optional[bool] = None,
) -> Iterator[bytes]:
    """Yield the encoded lines of the file: the header, then exactly ``rows`` data lines."""
    if layout not in ("cm", "maires"):
        raise ValueError(f"unknown layout {layout!r} (cm or maires)")
    if bom is None:
        bom = layout == "cm"  # like the published files
    header = CM_HEADER if layout == "cm" else MAIRES_HEADER
    yield ((BOM if bom else "") + header + "\n").encode("utf-8")
    if rows <= 0:
        return
    commune_names = commune_names or {}
    if insee:
        codes = [code.strip().upper() for code in insee if code.strip()]
        if layout == "maires":  # one mayor per commune
            communes = [(i, code, 1) for i, code in enumerate(codes[:rows])]
            sizes: list[Optional[int]] = [None] * len(communes)
        else:
            quotas = [rows // len(codes) + (1 if i < rows % len(codes) else 0) for i in range(len(codes))]
            communes = [(i, code, quota) for i, (code, quota) in enumerate(zip(codes, quotas)) if quota]
            sizes = [quota for _, _, quota in communes]
    else:
        if layout == "maires":
            count = rows
        else:  # how many communes the rows need: plan each council once, keeping only the counts
            count, total = 0, 0
            while total < rows:
                total += _plan_rows(_plan(_commune_rng(seed, count)))
                count += 1
        codes = _synthetic_codes(count, random.Random(seed))
        communes = [(i, code, None) for i, code in enumerate(codes)]
        sizes = [None] * len(communes)
    left = rows
    for (index, code, quota), size in zip(communes, sizes):
        rng = _commune_rng(seed, index)
        persons = _plan(rng, size)  # also for the mayors file, so that its mayors are those of the cm file
        name = commune_names.get(code) or _commune_name(rng)
        limit = min(left, quota if quota is not None else left)
        if layout == "maires":
            limit = min(limit, 1)
        for line in _commune_lines(rng, persons, _place(code, name), layout, limit):
            yield line.encode("utf-8")
            left -= 1
        if left == 0:
            return


def generate(
    out_binary_file: BinaryIO,
    rows: int,
    seed: int = 1,
    layout: str = "cm",
    insee: Optional[Sequence[str]] = None,
    commune_names: Optional[dict[str, str]] = None,
) -> int:
    """Write the file to ``out_binary_file`` in batches of ``BATCH_LINES`` lines; return the number of data rows."""
    batch: list[bytes] = []
    written = -1  # the header
    for line in iter_lines(rows, seed, layout, insee, commune_names):
        batch.append(line)
        if len(batch) == BATCH_LINES:
            out_binary_file.write(b"".join(batch))
            written += len(batch)
            batch.clear()
    if batch:
        out_binary_file.write(b"".join(batch))
        written += len(batch)
    return written


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generate_rne", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=500_000, help="data rows to write (default 500000)")
    parser.add_argument("--out", required=True, help="output file ('-' for standard output)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--layout", choices=("cm", "maires"), default="cm",
                        help="cm: elus-conseillers-municipaux-cm.csv (16 columns); maires: elus-maires-mai.csv (14)")
    parser.add_argument("--insee", help="comma-separated INSEE codes: share the rows between these communes only")
    parser.add_argument("--communes", help="commune reference file (siren;code_insee;nom;code_departement) for names")
    args = parser.parse_args(argv)
    insee = [code for code in (args.insee or "").split(",") if code.strip()] or None
    names = read_commune_names(args.communes) if args.communes else None
    if args.out == "-":
        written = generate(sys.stdout.buffer, args.rows, args.seed, args.layout, insee, names)
    else:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "wb") as out:
            written = generate(out, args.rows, args.seed, args.layout, insee, names)
    print(f"{written} lignes écrites ({args.layout}).", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
