"""Webhooks of an API client (docs/api-clients.md, « Webhooks »): registered, listed and deleted by the client's
owner's people or by the program itself with its own token, and their delivery log."""
from chalice import Blueprint

from ..domain import api_clients as client_rules
from ..services import webhooks
from . import schemas as s
from .openapi import PROGRAMS_TAG
from .routing import COMMUNE, MANUFACTURER, MINISTRY, PREFECTURE, endpoint

hooks_api = Blueprint(__name__)

# The commune's agents (its clients), the card maker (the préfectures' and the ministry's tools), and each program for
# its own client (a commune's, a préfecture's or the ministry's token): anyone else gets 404 (services/webhooks.py).
WHO = {COMMUNE, MANUFACTURER, PREFECTURE, MINISTRY}
WHO_TEXT = ("Pour l'agent de la commune (ses accès), le fabricant (les accès des préfectures et du ministère) et le "
            "logiciel lui-même avec son propre jeton ; pour tout autre, l'accès n'existe pas (404).")
BASE = "/api-clients/{client_id}/webhooks"


@endpoint(hooks_api, BASE, "POST", roles=WHO, scope=client_rules.ORDERS_READ, status=201, tag=PROGRAMS_TAG,
          summary="Enregistrer un webhook (adresse HTTPS et événements)", request=s.WEBHOOK_NEW,
          response=s.WEBHOOK_CREATED,
          errors={400: ["invalid_url", "invalid_events"], 404: ["not_found"],
                  409: ["client_revoked", "too_many_webhooks"]},
          description="Le portail enverra à cette adresse (HTTPS, joignable sur internet) un `POST` JSON à chaque "
                      "événement choisi, signé (en-tête `X-CartesElus-Signature`, HMAC-SHA256 avec le secret) : "
                      "voir la section `webhooks` de ce document. Le secret de signature (`secret`) n'est donné "
                      "qu'une fois, dans cette réponse. " + WHO_TEXT)
def create_webhook(call, client_id):
    return webhooks.register(call.principal, client_id, call.body["url"], call.body["events"])


@endpoint(hooks_api, BASE, "GET", roles=WHO, scope=client_rules.ORDERS_READ, tag=PROGRAMS_TAG,
          summary="Les webhooks d'un accès", response=s.page_of(s.WEBHOOK), errors={404: ["not_found"]},
          description="Du plus ancien au plus récent, les webhooks supprimés compris (marqués) ; jamais le secret. "
                      + WHO_TEXT)
def list_webhooks(call, client_id):
    return webhooks.list_webhooks(call.principal, client_id)


@endpoint(hooks_api, BASE + "/{webhook_id}", "DELETE", roles=WHO, scope=client_rules.ORDERS_READ, status=204,
          tag=PROGRAMS_TAG, summary="Supprimer un webhook (plus aucun envoi)", errors={404: ["not_found"]},
          description="Les envois en attente s'arrêtent ; le journal des envois reste lisible. " + WHO_TEXT)
def delete_webhook(call, client_id, webhook_id):
    webhooks.delete(call.principal, client_id, webhook_id)


@endpoint(hooks_api, BASE + "/{webhook_id}/deliveries", "GET", roles=WHO, scope=client_rules.ORDERS_READ,
          tag=PROGRAMS_TAG, summary="Le journal des envois d'un webhook", response=s.page_of(s.WEBHOOK_DELIVERY),
          query={"cursor": {"type": "string", "maxLength": 2000}}, errors={400: ["invalid_cursor"], 404: ["not_found"]},
          description="Du plus récent au plus ancien, gardés 30 jours : l'événement, son statut (en cours, remis, "
                      "échec), le nombre d'essais, le dernier statut HTTP reçu et chaque essai. " + WHO_TEXT)
def list_deliveries(call, client_id, webhook_id):
    return webhooks.deliveries(call.principal, client_id, webhook_id, call.query.get("cursor"))
