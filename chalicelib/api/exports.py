"""Every list a commune's agent or the back office sees, downloaded as CSV or XLSX (docs/exports.md).

Each export route takes its list route's filters plus ``format`` (``csv``, the default, or ``xlsx``), reads every page
of the list through the same service call as the list route, turns each item into the same JSON view (``views.py``),
and writes one row per item, columns in French. So the file has the same rows as the page, in the same order; the
columns are the page's, the values as the API gives them (labels, not codes; moments in UTC). A national list's file
is written in the background (``NATIONAL_LISTS``, domain/exports.py): the route answers 202 and where to follow it.
"""
from typing import Callable, NamedTuple

from chalice import Blueprint

from ..domain import exports as export_rules
from ..printing.tables import MOMENT, NUMBER, TEXT, Column
from ..services import accounts, cards as cards_service, declarations as declarations_service, documents, exports
from ..services import officials as officials_service, orders as orders_service
from ..wiring import collaborators
from . import schemas as s, views
from .routing import COMMUNE, MANUFACTURER, MINISTRY, PREFECTURE, Accepted, endpoint

downloads = Blueprint(__name__)

FORMAT = {"format": {"type": "string", "enum": s.EXPORT_FORMATS, "default": "csv",
                     "description": "csv (UTF-8 avec BOM, séparateur ;) ou xlsx"}}
ERRORS = {400: ["invalid_request"]}
WHOLE_LIST = "Tout le contenu de la liste, sur toutes ses pages, dans le même ordre que la liste."


class Field(NamedTuple):
    column: Column
    value: Callable[[dict], object]  # the cell, from the item's JSON view


def field(header: str, value: Callable[[dict], object], kind: str = TEXT) -> Field:
    return Field(Column(header, kind), value)


def _export(call, name: str, title: str, fields: list[Field], pages) -> dict:
    """``pages``: lists of JSON views. The format is checked before any list is read."""
    file_format = exports.check_format(call.query.get("format"))
    return exports.export(call.principal, name, title, [f.column for f in fields], _rows(fields, pages), file_format)


def _rows(fields: list[Field], pages):
    return ([[f.value(item) for f in fields] for item in page] for page in pages)


def _views(pages, view, *args):
    """The items' JSON views, page by page; orders and cards without their files' links (``views.order``)."""
    links = {"links": False} if view in (views.order, views.card) else {}
    return ([view(item, *args, **links) for item in page] for page in pages)


# --- the columns of each list ---------------------------------------------------------------------------------------

PHOTO_LABELS = {"missing": "Photo manquante", "processing": "Photo en cours de traitement", "ready": "Photo prête",
                "rejected": "Photo refusée"}

AGENT_FIELDS = [
    field("Nom", lambda a: a["last_name"]), field("Prénom", lambda a: a["first_name"]),
    field("Adresse e-mail", lambda a: a["email"]),
    field("Compte", lambda a: "Actif" if a.get("password_set") else "Invitation envoyée"),
    field("Ajouté le (UTC)", lambda a: a.get("created_at"), MOMENT),
]
OFFICIAL_FIELDS = [
    field("Nom", lambda o: o["last_name"]), field("Prénom", lambda o: o["first_name"]),
    field("Fonction", lambda o: o["function_label"]), field("Date de naissance", lambda o: o.get("birth_date")),
    field("Début du mandat", lambda o: o.get("mandate_start")),
    field("Photo", lambda o: PHOTO_LABELS.get(o["photo"]["status"], o["photo"]["status"])),
    field("Aperçu de la carte", lambda o: "Prêt" if o["preview"]["status"] == "ready" else "Pas encore"),
    field("Carte n°", lambda o: (o.get("card") or {}).get("number")),
    field("Statut de la carte", lambda o: (o.get("card") or {}).get("status_label")),
    field("Demande en cours", lambda o: "Oui" if o.get("card_in_progress") else "Non"),
    field("Origine", lambda o: "Déclaré par la commune" if o.get("origin") == "declared" else "Répertoire national"),
]


def _names(order: dict) -> str:
    return ", ".join(f"{c['last_name']} {c['first_name']}" for c in order["cards"])


ORDER_FIELDS = [
    field("Demande", lambda o: o["id"]), field("Élus", _names),
    field("Nombre de cartes", lambda o: len(o["cards"]), NUMBER),
    field("Statut de la demande", lambda o: o["status_label"]),
    field("Créée le (UTC)", lambda o: o["created_at"], MOMENT),
    field("Dernière mise à jour (UTC)", lambda o: o.get("updated_at") or o["created_at"], MOMENT),
]
ADMIN_ORDER_FIELDS = [
    field("Commune", lambda o: o.get("commune_name")), field("SIREN", lambda o: o.get("siren")),
    field("Département", lambda o: o.get("department_code")), *ORDER_FIELDS,
]
CARD_FIELDS = [
    field("Carte n°", lambda c: c["number"]), field("Nom", lambda c: c["last_name"]),
    field("Prénom", lambda c: c["first_name"]), field("Fonction", lambda c: c["function_label"]),
    field("Statut", lambda c: c["status_label"]), field("Motif de la demande", lambda c: c.get("reason_label")),
    field("Remise le (UTC)", lambda c: (c.get("hand_over") or {}).get("at"), MOMENT),
    field("Remise", lambda c: (c.get("hand_over") or {}).get("mode_label")),
    field("Remplace la carte", lambda c: c.get("replaces")),
    field("Demande", lambda c: c.get("order_id")),
    field("Dernière mise à jour (UTC)", lambda c: c.get("updated_at"), MOMENT),
]
ADMIN_CARD_FIELDS = [
    CARD_FIELDS[0], field("Commune", lambda c: c.get("commune_name")), field("SIREN", lambda c: c.get("siren")),
    field("Département", lambda c: c.get("department_code")), *CARD_FIELDS[1:],
]
DECLARATION_FIELDS = [
    field("Nom", lambda d: d["last_name"]), field("Prénom", lambda d: d["first_name"]),
    field("Commune", lambda d: d.get("commune_label")), field("Code INSEE", lambda d: d.get("insee_code")),
    field("SIREN", lambda d: d["siren"]), field("Fonction", lambda d: d.get("function_label")),
    field("Date de naissance", lambda d: d.get("birth_date")),
    field("Date de l'élection", lambda d: d.get("election_date")),
    field("Déclaré le (UTC)", lambda d: d.get("declared_at"), MOMENT),
    field("Statut", lambda d: d.get("status_label")), field("Motif du refus", lambda d: d.get("reason")),
    field("En retard", lambda d: "Oui" if d.get("overdue") else "Non"),
]
MONTHLY_FIELDS = [
    field("Commune", lambda r: r["commune_name"]), field("SIREN", lambda r: r["siren"]),
    field("Cartes commandées", lambda r: r["ordered"], NUMBER),
    field("Cartes livrées", lambda r: r["delivered"], NUMBER),
    field("Cartes remises", lambda r: r["handed_over"], NUMBER),
    field("Cartes rejetées", lambda r: r["rejected"], NUMBER),
]

# --- the commune ----------------------------------------------------------------------------------------------------


@endpoint(downloads, "/exports/agents", "GET", roles={COMMUNE}, summary="Télécharger les agents de ma commune",
          response=s.EXPORT, errors=ERRORS, query=FORMAT, description=WHOLE_LIST)
def export_agents(call):
    return _export(call, "agents", "Agents", AGENT_FIELDS, [accounts.list_agents(call.principal)["items"]])


@endpoint(downloads, "/exports/officials", "GET", roles={COMMUNE}, summary="Télécharger les élus de ma commune",
          scope="officials:read",
          response=s.EXPORT, errors=ERRORS, query=FORMAT, description=WHOLE_LIST)
def export_officials(call):
    found = officials_service.list_officials(collaborators(), call.principal)
    return _export(call, "elus", "Élus", OFFICIAL_FIELDS, _views([found], views.official))


@endpoint(downloads, "/exports/orders", "GET", roles={COMMUNE}, summary="Télécharger les demandes de ma commune",
          scope="orders:read",
          response=s.EXPORT, errors={400: ["invalid_request", "invalid_cursor"]}, query=FORMAT,
          description=WHOLE_LIST)
def export_orders(call):
    c, principal = collaborators(), call.principal
    pages = exports.all_pages(lambda cursor: orders_service.list_orders(c, principal, cursor))
    return _export(call, "demandes", "Demandes", ORDER_FIELDS, _views(pages, views.order, principal.role))


@endpoint(downloads, "/exports/cards", "GET", roles={COMMUNE}, summary="Télécharger les cartes de ma commune",
          scope="orders:read",
          response=s.EXPORT, errors=ERRORS, description=WHOLE_LIST,
          query={"status": {"type": "string", "enum": s.CARD_STATUS_CODES}, "official_id": s.OFFICIAL_ID, **FORMAT})
def export_cards(call):
    c, principal, q = collaborators(), call.principal, call.query
    pages = exports.all_pages(lambda cursor: cards_service.list_commune_cards(
        c, principal, q.get("status"), q.get("official_id"), cursor))
    return _export(call, "cartes", "Cartes", CARD_FIELDS, _views(pages, views.card, principal.role))


# --- the back office --------------------------------------------------------------------------------------------------

class NationalList(NamedTuple):
    """A back-office list the card maker and the ministry read for the whole country: its file is then written in the
    background (domain/exports.py), by a worker that rebuilds it from this table."""

    name: str  # the file's name, the audit's, and the key of NATIONAL_LISTS
    title: str
    fields: list[Field]
    pages: Callable  # (collaborators, principal, filters) -> the list's pages of items, as its route reads them
    view: Callable  # (item, role) -> its JSON view


ADMIN_ORDERS = NationalList(
    "demandes", "Demandes", ADMIN_ORDER_FIELDS, lambda c, principal, q: exports.all_pages(
        lambda cursor: orders_service.admin_list(c, principal, q.get("status"), q.get("department"), cursor)),
    views.order)
REGISTRY = NationalList(
    "registre-des-cartes", "Registre des cartes", ADMIN_CARD_FIELDS, lambda c, principal, q: exports.all_pages(
        lambda cursor: cards_service.search(c, principal, None, q.get("status"), q.get("department"), cursor)),
    views.card)
NATIONAL_LISTS = {spec.name: spec for spec in (ADMIN_ORDERS, REGISTRY)}

IN_BACKGROUND = ("Pour une liste nationale (fabricant, ministère, sans département), le fichier est préparé en "
                 "arrière-plan : la réponse est alors 202, à suivre à l'adresse donnée par « Location » "
                 "(GET /admin/export-jobs/{export_id}).")


def national_table(list_name: str, principal, filters: dict):
    """The worker's view of a national list (services/exports.py ``ListTable``): its name, title, columns, rows."""
    spec = NATIONAL_LISTS[list_name]
    pages = _views(spec.pages(collaborators(), principal, filters), spec.view, principal.role)
    return spec.name, spec.title, [f.column for f in spec.fields], _rows(spec.fields, pages)


def _national(call, spec: NationalList):
    """The file at once, or, for the whole country, a file the worker writes while the person follows it."""
    file_format = exports.check_format(call.query.get("format"))
    filters = {name: value for name, value in call.query.items() if name != "format" and value}
    if export_rules.in_background(call.principal, filters.get("department")):
        # The list's own refusals (a national list is of one status) are answered now, not by the worker an instant
        # later: its first page is read here (one query), as the list route would.
        next(iter(spec.pages(collaborators(), call.principal, filters)), None)
        job = exports.start_export(call.principal, spec.name, filters, file_format)
        return Accepted(job, f"../export-jobs/{job['id']}")  # relative: the API is under /api behind the site
    pages = spec.pages(collaborators(), call.principal, filters)
    return _export(call, spec.name, spec.title, spec.fields, _views(pages, spec.view, call.principal.role))


@endpoint(downloads, "/admin/exports/orders", "GET", roles={MANUFACTURER, PREFECTURE, MINISTRY},
          scope="orders:read",
          summary="Télécharger les demandes par statut (toutes pour le fabricant, celles du département pour la "
                  "préfecture)", response=s.EXPORT, accepted=s.EXPORT_JOB, errors=ERRORS,
          description=f"{WHOLE_LIST} {IN_BACKGROUND}",
          query={"status": {"type": "string", "enum": s.STATUS_CODES}, "department": s.DEPARTMENT, **FORMAT})
def export_admin_orders(call):
    return _national(call, ADMIN_ORDERS)


@endpoint(downloads, "/admin/exports/cards", "GET", roles={PREFECTURE, MANUFACTURER, MINISTRY},
          scope="orders:read",
          summary="Télécharger le registre des cartes d'un statut (le département de la préfecture, tous pour le "
                  "fabricant)", response=s.EXPORT, accepted=s.EXPORT_JOB, errors=ERRORS,
          description=f"{WHOLE_LIST} {IN_BACKGROUND}",
          query={"status": {"type": "string", "enum": s.CARD_STATUS_CODES}, "department": s.DEPARTMENT, **FORMAT})
def export_registry(call):
    return _national(call, REGISTRY)


@endpoint(downloads, "/admin/exports/cards-to-return", "GET", roles={PREFECTURE, MANUFACTURER, MINISTRY},
          scope="orders:read",
          summary="Télécharger les cartes à restituer d'un département", response=s.EXPORT, errors=ERRORS,
          description=WHOLE_LIST, query={"department": s.DEPARTMENT, **FORMAT})
def export_cards_to_return(call):
    c, principal, q = collaborators(), call.principal, call.query
    pages = exports.all_pages(lambda cursor: cards_service.to_return(c, principal, q.get("department"), cursor))
    return _export(call, "cartes-a-restituer", "Cartes à restituer", ADMIN_CARD_FIELDS,
                   _views(pages, views.card, principal.role))


@endpoint(downloads, "/admin/export-jobs/{export_id}", "GET", roles={MANUFACTURER, MINISTRY}, scope="orders:read",
          summary="Suivre un fichier de liste nationale en préparation", response=s.EXPORT_JOB,
          errors={404: ["not_found"]},
          description="L'état du fichier demandé (en préparation, avec les lignes déjà écrites ; prêt, avec un lien "
                      "de téléchargement neuf à chaque lecture ; ou en échec, avec la raison). Seul celui qui l'a "
                      "demandé le voit ; il est gardé un jour.")
def export_job(call, export_id):
    return exports.describe_export(call.principal, export_id)


@endpoint(downloads, "/prefecture/exports/declarations", "GET", roles={PREFECTURE},
          scope="officials:read",
          summary="Télécharger les élus déclarés de mon département (à vérifier, validés ou refusés)",
          response=s.EXPORT, errors=ERRORS, description=WHOLE_LIST,
          query={"status": {"type": "string", "enum": ["pending", "validated", "refused"]}, **FORMAT})
def export_declarations(call):
    c, principal, q = collaborators(), call.principal, call.query
    pages = exports.all_pages(lambda cursor: declarations_service.list_declarations(
        c, principal, q.get("status") or "pending", cursor))
    return _export(call, "elus-declares", "Élus déclarés", DECLARATION_FIELDS,
                   _views(pages, views.declaration_item))


@endpoint(downloads, "/admin/exports/monthly-report", "GET", roles={PREFECTURE, MANUFACTURER},
          summary="Télécharger le contrôle mensuel d'un département", response=s.EXPORT, errors=ERRORS,
          description="Une ligne par commune, puis le total du département, comme à l'écran.",
          query={"month": {"type": "string", "pattern": "^\\d{4}-\\d{2}$"}, "department": s.DEPARTMENT, **FORMAT})
def export_monthly_report(call):
    exports.check_format(call.query.get("format"))
    report = documents.monthly_report(call.principal, call.query.get("month"), call.query.get("department"))
    total = {"commune_name": "Total du département", "siren": "", **report["totals"]}
    return _export(call, f"controle-mensuel-{report['department_code']}-{report['month']}",
                   f"Contrôle {report['month']}", MONTHLY_FIELDS, [report["communes"] + [total]])

