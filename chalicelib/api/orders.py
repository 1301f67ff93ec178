"""« Commander les cartes d'identité des élus enregistrés », and the back office that moves orders on."""
import logging

from chalice import Blueprint

from .. import clock
from ..services import documents, orders as service, print_files
from ..wiring import collaborators
from . import schemas as s, views
from .routing import COMMUNE, MANUFACTURER, MINISTRY, PREFECTURE, endpoint

orders = Blueprint(__name__)
audit = logging.getLogger("portal.audit")

CURSOR = {"cursor": {"type": "string", "maxLength": 2000}}


@endpoint(orders, "/orders", "POST", roles={COMMUNE}, status=201, summary="Nouvelle demande de cartes",
          scope="orders:write",
          request=s.ORDER_NEW, response=s.ORDER,
          description="Les élus à commander, soit par `official_ids`, soit par `cards` avec le motif de chaque carte "
                      "(première demande, perte, vol, détérioration, changement de fonction, nouveau mandat). La "
                      "demande est créée en brouillon, avec l'aperçu de chaque carte ; elle part au fabricant "
                      "une fois validée (`POST /orders/{order_id}/submit`).",
          errors={409: ["card_already_issued", "mandate_ended", "declaration_required"], 422: ["officials_not_ready"]})
def create_order(call):
    """``official_ids``, or ``cards`` with each card's reason (``domain/cards.py``: a first card, a loss, a theft,
    damage, a change of function, a new mandate)."""
    lines = call.body.get("cards") or [{"official_id": oid} for oid in call.body.get("official_ids", [])]
    reasons = {line["official_id"]: line.get("reason") for line in reversed(lines)}  # the first line wins
    return views.order(service.create_order(collaborators(), call.principal, [line["official_id"] for line in lines],
                                            reasons), call.principal.role)


@endpoint(orders, "/orders", "GET", roles={COMMUNE}, scope="orders:read",
          summary="Liste des demandes de ma commune (les plus récentes "
          "d'abord)", response=s.page_of(s.ORDER), query=CURSOR, errors={400: ["invalid_cursor"]},
          description="Chaque demande avec ses cartes, son statut et tout son historique.")
def list_orders(call):
    return views.page(*service.list_orders(collaborators(), call.principal, call.query.get("cursor")), views.order,
                      call.principal.role)


@endpoint(orders, "/orders/{order_id}", "GET", roles={COMMUNE}, summary="Une demande et son historique",
          scope="orders:read",
          response=s.ORDER, errors={404: ["not_found"]})
def get_order(call, order_id):
    return views.order(service.load(collaborators(), call.principal, order_id), call.principal.role)


@endpoint(orders, "/orders/{order_id}/submit", "POST", roles={COMMUNE}, scope="orders:write",
          summary="Valider la demande après la "
          "prévisualisation", request=s.ORDER_SUBMIT, response=s.ORDER,
          errors={404: ["not_found"], 409: ["invalid_transition"], 422: ["preview_not_acknowledged"]})
def submit_order(call, order_id):
    return views.order(service.submit(collaborators(), call.principal, order_id, call.body["preview_acknowledged"]),
                       call.principal.role)


@endpoint(orders, "/orders/{order_id}/cancel", "POST", roles={COMMUNE}, summary="Annuler la demande",
          scope="orders:write",
          request=s.ORDER_CANCEL, response=s.ORDER, errors={404: ["not_found"], 409: ["invalid_transition"]})
def cancel_order(call, order_id):
    return views.order(service.move(collaborators(), call.principal, order_id, "annulee", None), call.principal.role)


@endpoint(orders, "/admin/orders", "GET", roles={MANUFACTURER, PREFECTURE, MINISTRY},
          scope="orders:read",
          summary="Demandes par statut (toutes pour le fabricant, celles du département pour la préfecture)",
          response=s.page_of(s.ORDER), errors={400: ["invalid_cursor", "invalid_request"]},
          query={"status": {"type": "string", "enum": s.STATUS_CODES}, "department": s.DEPARTMENT, **CURSOR})
def admin_list_orders(call):
    q = call.query
    return views.page(*service.admin_list(collaborators(), call.principal, q.get("status"), q.get("department"),
                                          q.get("cursor")), views.order, call.principal.role)


@endpoint(orders, "/admin/orders/{order_id}", "GET", roles={MANUFACTURER, PREFECTURE, MINISTRY}, summary="Une demande",
          scope="orders:read",
          response=s.ORDER, errors={404: ["not_found"]})
def admin_get_order(call, order_id):
    c = collaborators()
    order = service.load(c, call.principal, order_id)
    if call.principal.role == MANUFACTURER:
        service.redraw_missing_cards(c, order)
        audit.info("photo_access", extra={"event": "photo_access", "by": call.principal.email, "order": order_id,
                                          "cards": len(order.cards), "at": clock.iso(clock.now())})
    return views.order(order, call.principal.role)


@endpoint(orders, "/admin/orders/{order_id}/transitions", "POST", roles={MANUFACTURER, PREFECTURE},
          summary="Faire avancer une demande (production, livraison, réception, remise, rejet)",
          request=s.TRANSITION, response=s.ORDER,
          errors={404: ["not_found"], 409: ["invalid_transition"], 422: ["reason_required"]})
def transition(call, order_id):
    return views.order(service.move(collaborators(), call.principal, order_id, call.body["to"], call.body.get("reason")),
                       call.principal.role)


@endpoint(orders, "/admin/orders/{order_id}/cards/{official_id}/reject-photo", "POST", roles={MANUFACTURER},
          summary="Refuser la photo d'une carte (les autres cartes de la demande continuent)",
          request=s.PHOTO_REJECTION, response=s.ORDER,
          errors={404: ["not_found"], 409: ["invalid_transition"], 422: ["reason_required"]})
def reject_photo(call, order_id, official_id):
    return views.order(service.reject_photo(collaborators(), call.principal, order_id, official_id,
                                            call.body["reason"]), call.principal.role)


@endpoint(orders, "/admin/orders/{order_id}/undo", "POST", roles={MANUFACTURER, PREFECTURE},
          summary="Annuler la dernière étape (par le même profil, dans les 10 minutes, si rien n'en dépend)",
          request=s.obj({}), response=s.ORDER, errors={404: ["not_found"], 409: ["not_undoable"]})
def undo_order_move(call, order_id):
    return views.order(service.undo(collaborators(), call.principal, order_id), call.principal.role)


@endpoint(orders, "/admin/orders/{order_id}/receipt", "GET", roles={PREFECTURE, MANUFACTURER},
          summary="Récépissé de remise à imprimer (PDF, une page par carte)", response=s.DOCUMENT,
          errors={404: ["not_found"], 409: ["not_delivered"]})
def receipt(call, order_id):
    return documents.hand_over_receipt(service.load(collaborators(), call.principal, order_id))


@endpoint(orders, "/admin/print-archives", "POST", roles={MANUFACTURER}, status=201,
          summary="Fichiers d'impression en une archive ZIP (photos, cartes, manifeste CSV) : une demande, ou toutes "
                  "celles en production", request=s.PRINT_ARCHIVE_NEW, response=s.PRINT_ARCHIVE,
          errors={404: ["not_found"]})
def print_archive(call):
    return print_files.print_archive(collaborators(), call.principal, call.body.get("order_id"))


@endpoint(orders, "/admin/reports/monthly", "GET", roles={PREFECTURE, MANUFACTURER},
          summary="Contrôle mensuel : cartes commandées, livrées, remises et rejetées par commune",
          response=s.MONTHLY, errors={400: ["invalid_request"]},
          query={"month": s.MONTH, "department": s.DEPARTMENT})
def monthly_report(call):
    return documents.monthly_report(call.principal, call.query.get("month"), call.query.get("department"))


@endpoint(orders, "/admin/activation-letters", "POST", roles={MANUFACTURER}, status=201,
          summary="Lettres d'activation (PDF) pour un département ou une liste de SIREN ; émet de nouveaux codes",
          request=s.LETTERS_NEW, response=s.LETTERS, errors={400: ["invalid_request"], 404: ["not_found"]})
def activation_letters(call):
    return documents.activation_letters(call.body.get("department_code"), call.body.get("sirens"))
