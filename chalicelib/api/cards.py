"""The card registry: the commune's « Cartes », the préfecture's hand-over card by card, return and destruction, and
the registry search of the préfecture and the card maker (docs/cards.md)."""
from chalice import Blueprint

from ..services import cards as service, documents
from ..store.repositories import CardRepository
from ..wiring import collaborators
from . import schemas as s, views
from .routing import COMMUNE, MANUFACTURER, MINISTRY, PREFECTURE, endpoint

cards = Blueprint(__name__)

CURSOR = {"cursor": {"type": "string", "maxLength": 2000}}
STATUS = {"status": {"type": "string", "enum": s.CARD_STATUS_CODES}}
CARD_ERRORS = {404: ["not_found"]}
MOVE_ERRORS = {404: ["not_found"], 409: ["invalid_card_transition", "already_handed_over", "card_declared",
                                         "card_in_use"]}


def _card(call, card):
    return views.card(card, call.principal.role)


# --- the commune --------------------------------------------------------------------------------------------------

@endpoint(cards, "/cards", "GET", roles={COMMUNE}, summary="Les cartes de ma commune et leur statut",
          scope="orders:read",
          response=s.page_of(s.CARD), errors={400: ["invalid_cursor", "invalid_request"]},
          query={**STATUS, "official_id": s.OFFICIAL_ID, **CURSOR})
def list_cards(call):
    q = call.query
    return views.page(*service.list_commune_cards(collaborators(), call.principal, q.get("status"),
                                                  q.get("official_id"), q.get("cursor")), views.card,
                      call.principal.role)


@endpoint(cards, "/cards/{number}", "GET", roles={COMMUNE}, summary="Une carte et son historique",
          scope="orders:read",
          response=s.CARD, errors=CARD_ERRORS)
def get_card(call, number):
    return _card(call, service.get_card(collaborators(), call.principal, number))


@endpoint(cards, "/cards/{number}/declarations", "POST", roles={COMMUNE}, status=201,
          scope="orders:write",
          summary="Déclarer la perte ou le vol d'une carte", request=s.CARD_DECLARATION, response=s.CARD,
          errors={**MOVE_ERRORS, 400: ["invalid_request"]})
def declare(call, number):
    b = call.body
    return _card(call, service.declare(collaborators(), call.principal, number, b["kind"], b["date"],
                                       b["circumstances"], b.get("police_report")))


# --- the préfecture and the card maker ----------------------------------------------------------------------------

@endpoint(cards, "/admin/cards", "GET", roles={PREFECTURE, MANUFACTURER, MINISTRY},
          scope="orders:read",
          summary="Registre des cartes : par numéro, ou par statut (le département de la préfecture, tous pour le "
                  "fabricant)", response=s.page_of(s.CARD), errors={400: ["invalid_cursor", "invalid_request"]},
          query={"number": {"type": "string", "maxLength": 40}, **STATUS, "department": s.DEPARTMENT, **CURSOR})
def search_cards(call):
    q = call.query
    return views.page(*service.search(collaborators(), call.principal, q.get("number"), q.get("status"),
                                      q.get("department"), q.get("cursor")), views.card, call.principal.role)


@endpoint(cards, "/admin/cards/{number}", "GET", roles={PREFECTURE, MANUFACTURER, MINISTRY}, summary="Une carte du registre",
          scope="orders:read",
          response=s.CARD, errors=CARD_ERRORS)
def admin_get_card(call, number):
    return _card(call, service.get_card(collaborators(), call.principal, number))


@endpoint(cards, "/admin/cards/{number}/hand-over", "POST", roles={PREFECTURE},
          summary="Remettre une carte : au titulaire en personne, ou à un représentant de la mairie",
          request=s.HAND_OVER, response=s.CARD, errors={**MOVE_ERRORS, 400: ["invalid_request"]},
          read_ahead=lambda number: [CardRepository().ref(number)] if service.may_be_card_number(number) else [])
def hand_over(call, number):
    b = call.body
    return _card(call, service.hand_over(collaborators(), call.principal, number, b["mode"],
                                         b.get("representative"), call.read_ahead))


@endpoint(cards, "/admin/cards/{number}/hand-over-receipt", "GET", roles={PREFECTURE},
          summary="Récépissé de remise de la carte à faire signer (PDF) : nominatif, ou transfert de responsabilité",
          response=s.DOCUMENT, errors={404: ["not_found"], 409: ["not_handed_over"]})
def hand_over_receipt(call, number):
    return documents.card_receipt(service.get_card(collaborators(), call.principal, number))


@endpoint(cards, "/admin/cards/{number}/receipt-uploads", "POST", roles={PREFECTURE}, status=201,
          summary="Envoyer le récépissé signé (PDF ou JPEG numérisé, 10 Mo au plus)", request=s.obj({}),
          response=s.RECEIPT_UPLOAD, errors={404: ["not_found"], 409: ["not_handed_over"]})
def start_receipt_upload(call, number):
    return service.start_receipt_upload(collaborators(), call.principal, number)


@endpoint(cards, "/admin/cards/{number}/receipt", "POST", roles={PREFECTURE},
          summary="Joindre à la carte le récépissé signé envoyé", request=s.RECEIPT_ATTACH, response=s.CARD,
          errors={404: ["not_found"], 409: ["not_handed_over", "invalid_card_transition"],
                  422: ["invalid_file_type", "file_too_large"]})
def attach_receipt(call, number):
    return _card(call, service.attach_receipt(collaborators(), call.principal, number, call.body["upload_id"]))


@endpoint(cards, "/admin/cards/{number}/return", "POST", roles={PREFECTURE}, summary="Enregistrer la restitution "
          "de la carte à la préfecture", request=s.obj({}), response=s.CARD, errors=MOVE_ERRORS)
def return_card(call, number):
    return _card(call, service.return_card(collaborators(), call.principal, number))


@endpoint(cards, "/admin/cards/{number}/destroy", "POST", roles={PREFECTURE}, summary="Enregistrer la destruction "
          "de la carte (restituée, perdue ou volée)", request=s.obj({}), response=s.CARD, errors=MOVE_ERRORS)
def destroy(call, number):
    return _card(call, service.destroy(collaborators(), call.principal, number))


@endpoint(cards, "/admin/cards/{number}/undo", "POST", roles={PREFECTURE},
          summary="Annuler la dernière opération sur la carte (dans les 10 minutes, si rien n'en dépend)",
          request=s.obj({}), response=s.CARD, errors={404: ["not_found"], 409: ["not_undoable"]})
def undo_card_move(call, number):
    return _card(call, service.undo(collaborators(), call.principal, number))


@endpoint(cards, "/cards/{number}/undo", "POST", roles={COMMUNE},
          scope="orders:write",
          summary="Annuler une déclaration de perte ou de vol faite par erreur (dans les 10 minutes)",
          request=s.obj({}), response=s.CARD, errors={404: ["not_found"], 409: ["not_undoable"]})
def undo_declaration(call, number):
    return _card(call, service.undo(collaborators(), call.principal, number))


@endpoint(cards, "/admin/cards-to-return", "GET", roles={PREFECTURE, MANUFACTURER, MINISTRY},
          scope="orders:read",
          summary="Cartes à restituer à la préfecture (mandat terminé, fonction changée, carte remplacée)",
          response=s.page_of(s.CARD), errors={400: ["invalid_cursor", "invalid_request"]},
          query={"department": s.DEPARTMENT, **CURSOR})
def cards_to_return(call):
    return views.page(*service.to_return(collaborators(), call.principal, call.query.get("department"),
                                         call.query.get("cursor")), views.card, call.principal.role)

