"""What API Gateway answers by itself, before any function of the portal runs, in the portal's error shape.

An unknown path or a method a path does not have never reaches Lambda: API Gateway answers it (by default with an
English 403 « Missing Authentication Token », or « Authorization header requires 'Credential' parameter » when a
bearer token is sent). The deployment template sets these « gateway responses » from ``GATEWAY_RESPONSES``
(infra/template.py), and the local stack's gateway answers the same (local/api_server.py), so that a person or a
program gets the API's ``{"code", "message"}`` in French everywhere.
"""
import json
from typing import NamedTuple


class GatewayAnswer(NamedTuple):
    status: int | None  # None: API Gateway's own status is kept (the DEFAULT_* types cover several statuses)
    code: str
    message: str

    def body(self) -> str:
        # ASCII escapes: the same JSON for a client, and nothing that API Gateway's mapping templates could misread.
        return json.dumps({"code": self.code, "message": self.message})


ROUTE_NOT_FOUND = GatewayAnswer(
    404, "route_not_found",
    "Cette adresse n'existe pas dans l'API du portail (chemin ou méthode inconnus). "
    "Les adresses de l'API sont décrites dans /openapi.json.")

# API Gateway's response type -> what it answers. MISSING_AUTHENTICATION_TOKEN is an unknown path or method; our API
# signs nothing with IAM, so INCOMPLETE_SIGNATURE is the same case when a client sends a bearer token.
GATEWAY_RESPONSES = {
    "MISSING_AUTHENTICATION_TOKEN": ROUTE_NOT_FOUND,
    "INCOMPLETE_SIGNATURE": ROUTE_NOT_FOUND,
    "REQUEST_TOO_LARGE": GatewayAnswer(
        413, "request_too_large", "La requête est trop volumineuse. Les fichiers s'envoient par le lien de dépôt."),
    "THROTTLED": GatewayAnswer(
        429, "too_many_requests", "Trop de requêtes en peu de temps. Réessayez dans quelques secondes."),
    "INTEGRATION_TIMEOUT": GatewayAnswer(
        504, "timeout", "Le service a mis trop de temps à répondre. Réessayez dans quelques instants."),
    "DEFAULT_4XX": GatewayAnswer(None, "bad_request", "La requête n'a pas pu être traitée."),
    "DEFAULT_5XX": GatewayAnswer(
        None, "service_unavailable", "Le service est momentanément indisponible. Réessayez dans quelques instants."),
}
