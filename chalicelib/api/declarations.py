"""Officials not yet in the national directory: the commune declares them with the procès-verbal d'élection, the
préfecture of the département validates or refuses the declaration (``services/declarations.py``)."""
from chalice import Blueprint

from ..services import declarations as service
from ..wiring import collaborators
from . import schemas as s, views
from .routing import COMMUNE, PREFECTURE, endpoint

declarations = Blueprint(__name__)


@endpoint(declarations, "/officials/declarations", "POST", roles={COMMUNE}, status=201,
          scope="officials:write",
          summary="Déclarer un élu absent du répertoire national (avec le procès-verbal de son élection)",
          request=s.DECLARATION_NEW, response=s.DECLARED,
          errors={409: ["already_in_directory", "already_registered"], 422: ["invalid_declaration"],
                  429: ["too_many_attempts"]})
def declare_official(call):
    b = call.body
    official, upload = service.declare(collaborators(), call.principal, {
        "last_name": b["last_name"], "first_name": b["first_name"], "sex": b["sex"], "birth_date": b["birth_date"],
        "election_date": b["election_date"]}, b["function"])
    return {"official": views.official(official), "proof_upload": upload}


@endpoint(declarations, "/officials/{official_id}/proof-uploads", "POST", roles={COMMUNE}, status=201,
          scope="officials:write",
          summary="Envoyer à nouveau le procès-verbal d'élection d'un élu déclaré", request=s.obj({}),
          response=s.PROOF_UPLOAD, errors={404: ["not_found"], 409: ["not_declared", "declaration_reviewed"],
                                           429: ["too_many_attempts"]})
def start_proof_upload(call, official_id):
    return service.start_proof_upload(collaborators(), call.principal, official_id)


@endpoint(declarations, "/prefecture/declarations", "GET", roles={PREFECTURE},
          scope="officials:read",
          summary="Élus déclarés à vérifier (ou déjà validés, refusés) dans mon département",
          response=s.DECLARATIONS, errors={400: ["invalid_cursor"]},
          query={"status": {"type": "string", "enum": ["pending", "validated", "refused"]},
                 "cursor": {"type": "string", "maxLength": 2000}})
def list_declarations(call):
    items, next_cursor = service.list_declarations(collaborators(), call.principal,
                                                   call.query.get("status") or "pending", call.query.get("cursor"))
    return views.page(items, next_cursor, views.declaration_item)


@endpoint(declarations, "/prefecture/declarations/{siren}/{official_id}/review", "POST", roles={PREFECTURE},
          summary="Valider ou refuser la déclaration d'un élu", request=s.DECLARATION_REVIEW,
          response=s.DECLARATION_ITEM,
          errors={404: ["not_found"], 409: ["declaration_not_pending"], 422: ["invalid_request"]})
def review_declaration(call, siren, official_id):
    official = service.review(collaborators(), call.principal, siren, official_id, call.body["decision"],
                              call.body.get("reason"))
    return views.declaration_item(official)
