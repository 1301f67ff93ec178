"""Back office: reference files (uploads and the sync with data.gouv.fr), operators, activation codes, dashboards."""
from chalice import Blueprint

from ..services import accounts, dashboards, reference_imports, reference_syncs
from ..wiring import collaborators
from . import schemas as s
from .routing import MANUFACTURER, MINISTRY, PREFECTURE, endpoint

admin = Blueprint(__name__)


@endpoint(admin, "/admin/reference-imports", "POST", roles={MANUFACTURER}, status=201,
          summary="Envoyer un fichier de référence", request=s.IMPORT_NEW, response=s.IMPORT_STARTED)
def start_reference_import(call):
    return reference_imports.start_import(call.principal, call.body["kind"])


@endpoint(admin, "/admin/reference-imports/{import_id}", "GET", roles={MANUFACTURER},
          summary="Suivre l'import d'un fichier de référence", response=s.IMPORT, errors={404: ["not_found"]})
def describe_reference_import(call, import_id):
    return reference_imports.describe_import(import_id)


@endpoint(admin, "/admin/reference-syncs", "POST", roles={MANUFACTURER}, status=202,
          summary="Synchroniser les fichiers du RNE avec data.gouv.fr", request=s.obj({}), response=s.SYNC,
          errors={409: ["sync_in_progress"]})
def request_reference_sync(call):
    return reference_syncs.request_sync(call.principal.email)


@endpoint(admin, "/admin/reference-syncs/latest", "GET", roles={MANUFACTURER},
          summary="La dernière synchronisation avec data.gouv.fr", response=s.SYNC, errors={404: ["not_found"]})
def latest_reference_sync(call):
    return reference_syncs.latest_sync()


@endpoint(admin, "/admin/reference-syncs/{sync_id}", "GET", roles={MANUFACTURER},
          summary="Suivre une synchronisation avec data.gouv.fr", response=s.SYNC, errors={404: ["not_found"]})
def describe_reference_sync(call, sync_id):
    return reference_syncs.describe_sync(sync_id)


@endpoint(admin, "/admin/operators", "POST", roles={MANUFACTURER}, status=201,
          summary="Créer un compte du fabricant ou d'une préfecture", request=s.OPERATOR_NEW, response=s.OPERATOR,
          errors={400: ["invalid_email", "invalid_name"], 409: ["email_already_used"], 422: ["unknown_department"]})
def create_operator(call):
    b = call.body
    return accounts.create_operator(b["email"], b["first_name"].strip(), b["last_name"].strip(), b["role"],
                                    b.get("department_code"))


@endpoint(admin, "/admin/communes/{siren}/activation-code", "POST", roles={MANUFACTURER}, status=201,
          summary="Émettre un nouveau code d'activation", request=s.obj({}), response=s.ACTIVATION_CODE,
          errors={404: ["not_found"], 409: ["already_registered"]})
def issue_activation_code(call, siren):
    return accounts.issue_activation_code(siren)


@endpoint(admin, "/admin/dashboard", "GET", roles={MANUFACTURER, PREFECTURE, MINISTRY},
          scope="orders:read",
          summary="Tableau de bord : demandes et cartes par semaine et par statut, délai de remise, rejets "
                  "(national ou un département ; une préfecture voit toujours le sien)",
          response=s.DASHBOARD, errors={400: ["invalid_request"]},
          query={"scope": {"type": "string", "enum": ["national", "department"]}, "department": s.DEPARTMENT,
                 # a query string's values are strings: the number of weeks is digits, its range checked by the service
                 "weeks": {"type": "string", "pattern": "^[0-9]{1,2}$",
                           "description": "nombre de semaines, de 1 à 52 (12 par défaut)"}})
def dashboard(call):
    q = call.query
    return dashboards.dashboard(collaborators(), call.principal, q.get("scope"), q.get("department"), q.get("weeks"))


@endpoint(admin, "/admin/communes-without-order", "GET", roles={MANUFACTURER, PREFECTURE, MINISTRY},
          scope="orders:read",
          summary="Communes d'un département ayant un élu pouvant recevoir une carte et n'ayant envoyé aucune demande "
                  "(celui de la préfecture ; le fabricant et le ministère précisent le département)",
          response=s.page_of(s.COMMUNE_WITHOUT_ORDER), errors={400: ["invalid_request"]},
          query={"department": s.DEPARTMENT},
          description="Par nom de commune, en une page (quelques centaines de communes au plus) : les communes que le "
                      "répertoire national des élus liste avec un maire ou un adjoint, sans demande envoyée.")
def communes_without_order(call):
    return {"items": dashboards.communes_without_order(call.principal, call.query.get("department")), "next": None}
