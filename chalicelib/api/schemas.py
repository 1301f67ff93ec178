"""JSON Schemas of request and response bodies: used to validate requests and published in the OpenAPI document."""
from ..domain import (api_clients as api_client_rules, cards as registry, codes, orders as lifecycle, photo_checks, stats,
                     webhooks as hooks)

NAME = {"type": "string", "minLength": 1, "maxLength": 100}
EMAIL = {"type": "string", "minLength": 3, "maxLength": 254}
SIREN = {"type": "string", "minLength": 1, "maxLength": 20}
# A month of the portal's life, AAAA-MM: years 2000 to 2099 (the reports look a year back, cards last six years).
MONTH = {"type": "string", "pattern": "^20[0-9]{2}-(0[1-9]|1[0-2])$",
         "description": "Mois au format AAAA-MM (2000-01 à 2099-12)."}
DEPARTMENT = {"type": "string", "pattern": codes.DEPARTMENT_CODE.pattern}  # the one rule (domain/codes.py)
TIME = {"type": "string", "format": "date-time"}
# The list routes a program syncs from (docs/api-clients.md « Syncing with updated_since »).
UPDATED_SINCE = {"type": "string", "format": "date-time", "maxLength": 40,
                 "description": "Seulement les éléments modifiés strictement après cet instant (RFC 3339, avec son "
                                "décalage horaire : 2026-03-02T09:00:00Z ou 2026-03-02T10:00:00+01:00).",
                 "examples": ["2026-03-02T09:00:00Z"]}


def obj(properties: dict, required: list | None = None, additional: bool = False) -> dict:
    schema = {"type": "object", "properties": properties, "additionalProperties": additional}
    if required is not None:
        schema["required"] = required
    return schema


def page_of(item: dict) -> dict:
    return obj({"items": {"type": "array", "items": item}, "next": {"type": ["string", "null"]}}, ["items", "next"])


ERROR = obj(
    {"code": {"type": "string"}, "message": {"type": "string"}, "details": {}},
    ["code", "message"],
)

# The token endpoint's errors (POST /oauth/token): RFC 6749 §5.2's fields beside the portal's.
OAUTH_ERROR = obj(
    {"error": {"type": "string", "enum": ["invalid_request", "invalid_client", "unsupported_grant_type",
                                          "invalid_scope", "too_many_attempts"]},
     "error_description": {"type": "string"}, "code": {"type": "string"}, "message": {"type": "string"},
     "details": {}},
    ["error", "error_description", "code", "message"],
)

REGISTRATION = obj(
    {"siren": SIREN, "activation_code": {"type": "string", "minLength": 1, "maxLength": 40},
     "last_name": NAME, "first_name": NAME, "email": EMAIL},
    ["siren", "activation_code", "last_name", "first_name", "email"],
)
REGISTERED = obj({"siren": {"type": "string"}, "commune_name": {"type": "string"}, "email": {"type": "string"}},
                 ["siren", "commune_name", "email"])

SET_PASSWORD = obj({"token": {"type": "string", "minLength": 1, "maxLength": 200},
                    "password": {"type": "string", "minLength": 1, "maxLength": 1024}},
                   ["token", "password"])
PASSWORD_RESET = obj({"email": EMAIL}, ["email"])
OTP = {"type": "string", "minLength": 1, "maxLength": 20}  # 6 digits, or a recovery code (two groups of 5 base32 characters)
LOGIN = obj({"email": EMAIL, "password": {"type": "string", "minLength": 1, "maxLength": 1024}, "otp": OTP},
            ["email", "password"])
SESSION = obj({"token": {"type": "string"}, "expires_at": TIME, "idle_timeout_seconds": {"type": "integer"},
               "role": {"type": "string"}, "second_factor_enrolment_required": {"type": "boolean"},
               "proconnect": {"type": "boolean"}}, ["token", "expires_at", "role"])

ADDRESS = obj({"name": {"type": "string"}, "address": {"type": "string"}, "postal_code": {"type": "string"},
               "city": {"type": "string"}}, ["name", "address", "postal_code", "city"])
ME = obj({
    "email": {"type": "string"}, "first_name": {"type": "string"}, "last_name": {"type": "string"},
    "role": {"type": "string", "enum": ["commune", "manufacturer", "prefecture"]}, "role_label": {"type": "string"},
    "department_code": {"type": ["string", "null"]},
    "commune": obj({"siren": {"type": "string"}, "name": {"type": "string"}, "insee_code": {"type": "string"},
                    "department_code": {"type": "string"},
                    "delivery_address": {"oneOf": [ADDRESS, {"type": "null"}]}},
                   ["siren", "name", "insee_code", "department_code", "delivery_address"]),
}, ["email", "first_name", "last_name", "role"])

AGENT_NEW = obj({"email": EMAIL, "last_name": NAME, "first_name": NAME}, ["email", "last_name", "first_name"])
AGENT = obj({"id": {"type": "string"}, "email": {"type": "string"}, "first_name": {"type": "string"},
             "last_name": {"type": "string"}, "password_set": {"type": "boolean"}, "created_at": TIME},
            ["id", "email", "first_name", "last_name"])

# Access for programs (api/api_clients.py): the four scopes of domain/api_clients.py.
SCOPE = {"type": "string", "enum": list(api_client_rules.SCOPES)}
API_CLIENT_NEW = obj({"name": NAME, "scopes": {"type": "array", "items": SCOPE, "minItems": 1, "uniqueItems": True}},
                     ["name", "scopes"])
STATE_CLIENT_NEW = obj({"name": NAME,
                        "scopes": {"type": "array", "items": {"type": "string", "enum": list(api_client_rules.READ_SCOPES)},
                                   "minItems": 1, "uniqueItems": True},
                        "department_code": DEPARTMENT, "national": {"type": "boolean"}}, ["name", "scopes"])
API_CLIENT = obj({"client_id": {"type": "string"}, "name": {"type": "string"},
                  "scopes": {"type": "array", "items": SCOPE}, "created_at": TIME, "created_by": {"type": "string"},
                  "revoked": {"type": "boolean"}, "revoked_at": {"type": ["string", "null"], "format": "date-time"},
                  "owner": {"type": "string"}},
                 ["client_id", "name", "scopes", "created_at", "revoked"])
API_CLIENT_CREATED = obj({**API_CLIENT["properties"], "client_secret": {"type": "string"}},
                         ["client_id", "client_secret", "name", "scopes", "created_at"])
TOKEN_REQUEST = obj({"grant_type": {"type": "string", "maxLength": 100},
                     "scope": {"type": "string", "maxLength": 200},
                     "client_id": {"type": "string", "maxLength": 200}}, ["grant_type"],
                    additional=True)  # RFC 6749 §3.2: unknown parameters are ignored
TOKEN = obj({"access_token": {"type": "string"}, "token_type": {"type": "string", "enum": ["Bearer"]},
             "expires_in": {"type": "integer"}, "scope": {"type": "string"}},
            ["access_token", "token_type", "expires_in", "scope"])

IMPORT_KINDS = ["communes", "prefectures", "rne_cm", "rne_maires"]
IMPORT_NEW = obj({"kind": {"type": "string", "enum": IMPORT_KINDS}}, ["kind"])
UPLOAD = obj({"url": {"type": "string"}, "fields": {"type": "object", "additionalProperties": {"type": "string"}}},
             ["url", "fields"])
IMPORT_STARTED = obj({"id": {"type": "string"}, "kind": {"type": "string"}, "status": {"type": "string"},
                      "upload": UPLOAD, "expires_at": TIME}, ["id", "upload"])
LINE_REASONS = {"type": "array", "items": obj({"line": {"type": "integer"}, "reason": {"type": "string"}},
                                              ["line", "reason"])}
IMPORT = obj({
    "id": {"type": "string"}, "kind": {"type": "string"},
    "status": {"type": "string", "enum": ["pending", "running", "done", "failed"]},
    "rows": {"type": "integer"}, "imported": {"type": "integer"}, "rejected": {"type": "integer"},
    "errors": LINE_REASONS,
    "warnings": LINE_REASONS,  # rows read but not kept, and why (not errors: the file is right to hold them)
    "notes": {"type": "array", "items": {"type": "string"}},  # what the reader assumed (e.g. the encoding)
    "source": {"type": "string", "enum": ["upload", "sync"]},
    # directory files: the registered communes touched, each told what changed for it (null before the end)
    "communes_checked": {"type": ["integer", "null"]},
    "failure": {"type": ["string", "null"]}, "created_at": TIME, "updated_at": TIME,
}, ["id", "status", "rows", "imported", "rejected", "errors", "warnings", "notes"])

SYNC_ACTIONS = ["downloaded", "unchanged", "failed"]
SYNC = obj({
    "id": {"type": "string"},
    "status": {"type": "string", "enum": ["running", "done", "failed"]},
    "requested_by": {"type": "string", "description": "The operator's email, or \"schedule\" for the daily sync."},
    "started_at": TIME, "finished_at": {"oneOf": [TIME, {"type": "null"}]},
    "failure": {"type": ["string", "null"]},
    "resources": {"type": "array", "items": obj({
        "kind": {"type": "string", "enum": ["rne_maires", "rne_cm"]}, "kind_label": {"type": "string"},
        "action": {"type": "string", "enum": SYNC_ACTIONS},
        "resource_id": {"type": ["string", "null"]}, "title": {"type": ["string", "null"]},
        "url": {"type": ["string", "null"]}, "last_modified": {"type": ["string", "null"]},
        "checksum": {"type": ["string", "null"]}, "filesize": {"type": ["integer", "null"]},
        "import_id": {"type": ["string", "null"], "description": "downloaded: the import it started"},
        "reason": {"type": ["string", "null"], "description": "failed: why, in French"},
    }, ["kind", "action"])},
}, ["id", "status", "requested_by", "started_at", "resources"])

OPERATOR_NEW = obj({"email": EMAIL, "first_name": NAME, "last_name": NAME,
                    "role": {"type": "string", "enum": ["manufacturer", "prefecture"]},
                    "department_code": DEPARTMENT}, ["email", "first_name", "last_name", "role"])
OPERATOR = obj({"id": {"type": "string"}, "email": {"type": "string"}, "role": {"type": "string"},
                "department_code": {"type": ["string", "null"]}}, ["id", "email", "role"])
ACTIVATION_CODE = obj({"siren": {"type": "string"}, "commune_name": {"type": "string"},
                       "activation_code": {"type": "string"}, "expires_at": TIME},
                      ["siren", "activation_code", "expires_at"])
HEALTH = obj({"status": {"type": "string"}}, ["status"])

FUNCTION_CODES = ["maire", "adjoint", "maire_delegue", "maire_arrondissement"]
FUNCTION_CHOICE = obj({"code": {"type": "string", "enum": FUNCTION_CODES}, "label": {"type": "string"}},
                      ["code", "label"])
DIRECTORY_ENTRY = obj({
    "id": {"type": "string"}, "last_name": {"type": "string"}, "first_name": {"type": "string"},
    "sex": {"type": "string", "enum": ["M", "F"]}, "birth_date": {"type": "string", "format": "date"},
    "mandate_start": {"type": "string", "format": "date"},
    "rne_functions": {"type": "array", "items": {"type": "string"}},
    "eligible_functions": {"type": "array", "items": FUNCTION_CHOICE}, "registered": {"type": "boolean"},
}, ["id", "last_name", "first_name", "sex", "birth_date", "rne_functions", "eligible_functions", "registered"])
NOTICE_LINE = obj({"name": {"type": "string"}, "function_label": {"type": "string"},
                   "directory_id": {"type": ["string", "null"]}, "registered": {"type": "boolean"},
                   "order_id": {"type": ["string", "null"]}, "card_number": {"type": ["string", "null"]}},
                  ["name", "function_label"])
DIRECTORY_NOTICE = obj({
    "id": {"type": "string"}, "created_at": TIME, "source": {"type": "string", "enum": ["rne_cm", "rne_maires"]},
    "source_label": {"type": "string"},
    "newly_eligible": {"type": "array", "items": NOTICE_LINE},  # can now be ordered a card
    "cards_to_return": {"type": "array", "items": NOTICE_LINE},  # handed over, its function lost
    "orders_flagged": {"type": "array", "items": NOTICE_LINE},  # in progress, its function lost
}, ["id", "created_at", "source", "newly_eligible", "cards_to_return", "orders_flagged"])
CROP = obj({"x": {"type": "integer", "minimum": 0, "maximum": 100000},
            "y": {"type": "integer", "minimum": 0, "maximum": 100000},
            "width": {"type": "integer", "minimum": 1, "maximum": 100000},
            "height": {"type": "integer", "minimum": 1, "maximum": 100000}}, ["x", "y", "width", "height"])
OFFICIAL_NEW = obj({"directory_id": {"type": "string", "minLength": 1, "maxLength": 100},
                    "function": {"type": "string", "enum": FUNCTION_CODES}}, ["directory_id", "function"])
OFFICIAL_CHANGE = obj({"function": {"type": "string", "enum": FUNCTION_CODES}}, ["function"])
PHOTO_UPLOAD_NEW = obj({"crop": CROP}, [])  # without a crop, the photo assistant frames the photo
PHOTO_CROP = obj({"crop": CROP}, ["crop"])
DECLARATION_STATUSES = ["awaiting_proof", "pending", "validated", "refused"]
DATE = {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
DECLARATION_NEW = obj({"last_name": NAME, "first_name": NAME, "sex": {"type": "string", "enum": ["M", "F"]},
                       "birth_date": DATE, "election_date": DATE, "function": {"type": "string", "enum": FUNCTION_CODES}},
                      ["last_name", "first_name", "sex", "birth_date", "election_date", "function"])
PROOF_UPLOAD = obj({"upload_id": {"type": "string"}, "url": {"type": "string"},
                    "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                    "expires_at": TIME, "max_bytes": {"type": "integer"}},
                   ["upload_id", "url", "fields", "expires_at", "max_bytes"])
DECLARATION_REVIEW = obj({"decision": {"type": "string", "enum": ["validate", "refuse"]},
                          "reason": {"type": "string", "maxLength": 500}}, ["decision"])
DECLARATION_ITEM = obj({
    "siren": {"type": "string"}, "official_id": {"type": "string"}, "commune_label": {"type": "string"},
    "insee_code": {"type": "string"}, "last_name": {"type": "string"}, "first_name": {"type": "string"},
    "sex": {"type": "string"}, "birth_date": {"type": "string"}, "election_date": {"type": "string"},
    "function": {"type": "string", "enum": FUNCTION_CODES}, "function_label": {"type": "string"},
    "status": {"type": "string", "enum": DECLARATION_STATUSES}, "status_label": {"type": "string"},
    "reason": {"type": ["string", "null"]}, "declared_at": TIME, "proof_url": {"type": ["string", "null"]},
    "overdue": {"type": "boolean"},
}, ["siren", "official_id", "last_name", "first_name", "function", "status", "proof_url", "overdue"])
DECLARATIONS = obj({"items": {"type": "array", "items": DECLARATION_ITEM}, "next": {"type": ["string", "null"]}},
                   ["items", "next"])

OFFICIAL = obj({
    "card": {"oneOf": [{"type": "null"}, obj({"number": {"type": "string"}, "status": {"type": "string"},
                                              "status_label": {"type": "string"},
                                              "handed_over_at": {"type": ["string", "null"]}},
                                             ["number", "status", "status_label"])]},
    "id": {"type": "string"}, "directory_id": {"type": "string"}, "last_name": {"type": "string"},
    "first_name": {"type": "string"}, "sex": {"type": "string"}, "birth_date": {"type": "string"},
    "mandate_start": {"type": "string"}, "function": {"type": "string", "enum": FUNCTION_CODES},
    "function_label": {"type": "string"}, "eligible_functions": {"type": "array", "items": FUNCTION_CHOICE},
    "photo": obj({"status": {"type": "string", "enum": ["missing", "processing", "ready", "rejected"]},
                  "reason": {"type": "string"}, "url": {"type": "string"}, "crop": {"oneOf": [CROP, {"type": "null"}]},
                  "ready": {"type": "boolean"}, "blocking": {"type": "boolean"},
                  "proposed_crop": CROP,
                  "checks": {"type": "array", "items": obj({
                      "code": {"type": "string"},
                      "level": {"type": "string", "enum": [photo_checks.ERROR, photo_checks.WARNING]},
                      "message": {"type": "string"}}, ["code", "level", "message"])}}, ["status", "ready"]),
    "preview": obj({"status": {"type": "string", "enum": ["missing", "processing", "ready"]},
                    "url": {"type": "string"}}, ["status"]),
    "card_in_progress": {"type": "boolean"}, "mandate_ended": {"type": "boolean"}, "created_at": TIME,
    "updated_at": TIME,
    "origin": {"type": "string", "enum": ["rne", "declared"]},
    "declaration": {"oneOf": [{"type": "null"}, obj({
        "status": {"type": "string", "enum": DECLARATION_STATUSES}, "status_label": {"type": "string"},
        "reason": {"type": ["string", "null"]}, "election_date": {"type": "string"},
        # the upload_id of the procès-verbal kept (the page knows its upload was checked when it shows here)
        "proof_id": {"type": ["string", "null"]},
        "linked_to_directory": {"type": "boolean"}}, ["status", "status_label", "linked_to_directory"])]},
}, ["id", "directory_id", "last_name", "first_name", "sex", "function", "function_label", "photo", "preview",
    "origin", "declaration", "updated_at"])
DECLARED = obj({"official": OFFICIAL, "proof_upload": PROOF_UPLOAD}, ["official", "proof_upload"])
PHOTO_UPLOAD = obj({"upload_id": {"type": "string"}, "url": {"type": "string"},
                    "fields": {"type": "object", "additionalProperties": {"type": "string"}}, "expires_at": TIME,
                    "max_bytes": {"type": "integer"}}, ["upload_id", "url", "fields", "expires_at"])

STATUS_CODES = list(lifecycle.STATUSES)
OFFICIAL_ID = {"type": "string", "minLength": 1, "maxLength": 64}
ORDER_NEW = {**obj({
    "official_ids": {"type": "array", "minItems": 1, "maxItems": lifecycle.MAX_CARDS, "uniqueItems": True,
                     "items": OFFICIAL_ID},
    "cards": {"type": "array", "minItems": 1, "maxItems": lifecycle.MAX_CARDS,
              "items": obj({"official_id": OFFICIAL_ID, "reason": {"type": "string", "enum": list(registry.REASONS)}},
                           ["official_id"])},
}), "oneOf": [{"required": ["official_ids"]}, {"required": ["cards"]}]}
ORDER_SUBMIT = obj({"preview_acknowledged": {"type": "boolean"}}, ["preview_acknowledged"])
ORDER_CANCEL = obj({})
TRANSITION = obj({"to": {"type": "string", "enum": STATUS_CODES},
                  "reason": {"type": "string", "maxLength": 500}}, ["to"])
ORDER = obj({
    "id": {"type": "string"}, "status": {"type": "string", "enum": STATUS_CODES}, "status_label": {"type": "string"},
    "siren": {"type": "string"}, "commune_name": {"type": "string"}, "department_code": {"type": "string"},
    "created_at": TIME, "updated_at": TIME,
    "cards": {"type": "array", "items": obj({
        "official_id": {"type": "string"}, "last_name": {"type": "string"}, "first_name": {"type": "string"},
        "function": {"type": "string"}, "function_label": {"type": "string"},
        "preview": obj({"status": {"type": "string"}, "url": {"type": "string"}}, ["status"]),
        "card_number": {"type": "string"},
        "card_number_label": {"type": "string", "description": "What stands for the number while the card has "
                              "none, from the order's history (« Attribué à la fabrication » only if it may still "
                              "get there)."},
        "photo_url": {"type": "string"}, "card_url": {"type": "string"},
        "reason": {"type": "string", "enum": list(registry.REASONS)}, "reason_label": {"type": "string"},
        "replaces": {"type": "string"}, "handed_over_at": TIME,
        "photo_rejected": obj({"reason": {"type": "string"}, "at": TIME}, ["reason", "at"]),
        "photo_checks": {"type": "array", "items": obj({"code": {"type": "string"}, "level": {"type": "string"},
                                                        "message": {"type": "string"}}, ["code", "level", "message"],
                                                       additional=True)},
    }, ["official_id", "last_name", "first_name", "function_label", "preview", "reason", "reason_label"])},
    "delivery_address": {"oneOf": [ADDRESS, {"type": "null"}]},
    "history": {"type": "array", "items": obj({"status": {"type": "string"}, "status_label": {"type": "string"},
                                               "at": TIME, "by_role": {"type": "string"},
                                               "by_program": {"type": "string"},  # a program's step: « API : <name> »
                                               "reason": {"type": "string"}}, ["status", "at", "by_role"])},
    "alerts": {"type": "array", "items": obj({"official_id": {"type": "string"}, "code": {"type": "string"},
                                              "message": {"type": "string"}, "at": TIME},
                                             ["official_id", "code", "message"])},
    "allowed_moves": {"type": "array", "items": obj({"to": {"type": "string"}, "label": {"type": "string"},
                                                     "reason_required": {"type": "boolean"}}, ["to", "label"])},
    "photos_to_be_deleted_at": {"oneOf": [TIME, {"type": "null"}],
                                "description": "A closed order's photos are deleted at this moment."},
    "photos_deleted_at": {"oneOf": [TIME, {"type": "null"}]},
    "undo": {"oneOf": [{"type": "null"}, obj({"label": {"type": "string"}, "until": TIME}, ["label", "until"])]},
}, ["id", "status", "status_label", "created_at", "cards", "delivery_address", "history"])
OFFICIAL_EXPORT = obj({
    "generated_at": TIME,
    "official": {"type": "object"},
    "directory_rows": {"type": "array", "items": {"type": "object"}},
    "photo_files": {"type": "object", "additionalProperties": {"type": "string"}},
    "photo_files_expire_at": {"oneOf": [TIME, {"type": "null"}]},
    "orders": {"type": "array", "items": {"type": "object"}},
}, ["generated_at", "official", "directory_rows", "photo_files", "orders"])
DOCUMENT = obj({"url": {"type": "string"}, "expires_at": TIME, "pages": {"type": "integer"}}, ["url", "expires_at"])
LETTERS_NEW = obj({"department_code": DEPARTMENT,
                   "sirens": {"type": "array", "minItems": 1, "maxItems": 1000, "uniqueItems": True,
                              "items": {"type": "string", "minLength": 1, "maxLength": 20}}})
LETTERS = obj({"url": {"type": "string"}, "expires_at": TIME, "letters": {"type": "integer"},
               "skipped": {"type": "array", "items": obj({"siren": {"type": "string"}, "reason": {"type": "string"}},
                                                        ["siren", "reason"])}}, ["url", "letters", "skipped"])
MONTHLY = obj({"month": {"type": "string"}, "department_code": {"type": "string"},
               "communes": {"type": "array", "items": obj({
                   "siren": {"type": "string"}, "commune_name": {"type": "string"}, "ordered": {"type": "integer"},
                   "delivered": {"type": "integer"}, "handed_over": {"type": "integer"},
                   "rejected": {"type": "integer"}}, ["siren", "commune_name", "ordered", "delivered", "handed_over",
                                                      "rejected"])},
               "totals": {"type": "object"}}, ["month", "department_code", "communes", "totals"])

CARD_STATUS_CODES = list(registry.STATUSES)
REPRESENTATIVE = obj({"last_name": NAME, "first_name": NAME, "quality": NAME}, ["last_name", "first_name", "quality"])
CARD = obj({
    "number": {"type": "string"}, "status": {"type": "string", "enum": CARD_STATUS_CODES},
    "status_label": {"type": "string"}, "official_id": {"type": "string"}, "last_name": {"type": "string"},
    "first_name": {"type": "string"}, "function": {"type": "string"}, "function_label": {"type": "string"},
    "siren": {"type": "string"}, "commune_name": {"type": "string"}, "department_code": {"type": "string"},
    "order_id": {"type": "string"}, "reason": {"type": "string"}, "reason_label": {"type": "string"},
    "replaces": {"type": ["string", "null"]}, "created_at": TIME, "updated_at": TIME,
    "hand_over": {"oneOf": [{"type": "null"}, obj({
        "mode": {"type": "string", "enum": list(registry.HAND_OVER_MODES)}, "mode_label": {"type": "string"},
        "representative": {"oneOf": [{"type": "null"}, REPRESENTATIVE]}, "at": TIME}, ["mode", "mode_label", "at"])]},
    "declaration": {"oneOf": [{"type": "null"}, obj({
        "kind": {"type": "string", "enum": list(registry.DECLARED_AS)}, "date": {"type": "string"},
        "circumstances": {"type": "string"}, "police_report": {"type": ["string", "null"]}, "at": TIME},
        ["kind", "date", "circumstances", "at"])]},
    "receipt_url": {"type": ["string", "null"]},
    "history": {"type": "array", "items": obj({"status": {"type": "string"}, "status_label": {"type": "string"},
                                               "at": TIME, "by_role": {"type": "string"},
                                               "by_program": {"type": "string"},  # a program's step: « API : <name> »
                                               "note": {"type": ["string", "null"]}}, ["status", "status_label", "at"])},
    "actions": {"type": "array", "items": {"type": "string"}},
    "undo": {"oneOf": [{"type": "null"}, obj({"label": {"type": "string"}, "until": TIME}, ["label", "until"])]},
}, ["number", "status", "status_label", "official_id", "last_name", "first_name", "function_label", "order_id",
    "reason", "history", "actions"])
HAND_OVER = obj({"mode": {"type": "string", "enum": list(registry.HAND_OVER_MODES)},
                 "representative": REPRESENTATIVE}, ["mode"])
CARD_DECLARATION = obj({"kind": {"type": "string", "enum": list(registry.DECLARED_AS)},
                        "date": {"type": "string", "minLength": 10, "maxLength": 10},
                        "circumstances": {"type": "string", "minLength": 1, "maxLength": 2000},
                        "police_report": {"type": "string", "maxLength": 100}}, ["kind", "date", "circumstances"])
RECEIPT_UPLOAD = obj({"upload_id": {"type": "string"}, "url": {"type": "string"},
                      "fields": {"type": "object", "additionalProperties": {"type": "string"}}, "expires_at": TIME,
                      "max_bytes": {"type": "integer"}}, ["upload_id", "url", "fields", "expires_at"])
RECEIPT_ATTACH = obj({"upload_id": {"type": "string", "minLength": 1, "maxLength": 64}}, ["upload_id"])
PHOTO_REJECTION = obj({"reason": {"type": "string", "maxLength": 500}}, ["reason"])
PRINT_ARCHIVE_NEW = obj({"order_id": {"type": "string", "minLength": 1, "maxLength": 64}})
PRINT_ARCHIVE = obj({"url": {"type": "string"}, "expires_at": TIME, "orders": {"type": "integer"},
                     "cards": {"type": "integer"}, "missing_files": {"type": "array", "items": {"type": "string"}},
                     "truncated": {"type": "boolean"}}, ["url", "expires_at", "orders", "cards", "missing_files",
                                                         "truncated"])
MESSAGE = obj({"message": {"type": "string"}}, ["message"])

# A list downloaded as a spreadsheet (chalicelib/services/exports.py): the file is written to the private bucket and
# handed out through a short-lived link, like the PDFs.
EXPORT_FORMATS = ["csv", "xlsx"]
EXPORT = obj({"url": {"type": "string", "description": "Lien de téléchargement, valable quelques minutes."},
              "expires_at": TIME, "format": {"type": "string", "enum": EXPORT_FORMATS},
              "filename": {"type": "string"}, "rows": {"type": "integer", "minimum": 0},
              "truncated": {"type": "boolean", "description": "Vrai si la liste était trop longue pour un seul "
                                                              "fichier : il s'arrête après « rows » lignes."}},
             ["url", "expires_at", "format", "filename", "rows", "truncated"])
_NULLABLE_TEXT = {"type": ["string", "null"]}
EXPORT_JOB = obj({
    "id": {"type": "string"},
    "list": {"type": "string", "description": "La liste exportée (demandes, registre-des-cartes…)."},
    "format": {"type": "string", "enum": EXPORT_FORMATS},
    "status": {"type": "string", "enum": ["running", "ready", "failed"],
               "description": "running : en préparation ; ready : prêt (« url ») ; failed : voir « failure »."},
    "rows": {"type": "integer", "minimum": 0, "description": "Lignes écrites jusqu'ici, puis celles du fichier."},
    "created_at": TIME, "finished_at": {"oneOf": [TIME, {"type": "null"}]},
    "filename": _NULLABLE_TEXT, "truncated": {"type": "boolean"},
    "url": {**_NULLABLE_TEXT, "description": "Lien de téléchargement quand le fichier est prêt, valable quelques "
                                             "minutes : relire ce suivi en donne un nouveau."},
    "expires_at": {"oneOf": [TIME, {"type": "null"}]},
    "failure": {**_NULLABLE_TEXT, "description": "Pourquoi le fichier n'a pas pu être préparé."},
}, ["id", "list", "format", "status", "rows", "created_at", "finished_at", "filename", "truncated", "url",
    "expires_at", "failure"])

# GET /openapi.json: the document itself (its full shape is OpenAPI 3.1's, not repeated here).
OPENAPI_DOCUMENT = obj({"openapi": {"type": "string"}, "info": {"type": "object"}, "paths": {"type": "object"}},
                       ["openapi", "info", "paths"], additional=True)

_SERIES = obj({status: {"type": "array", "items": {"type": "integer"}} for status in stats.CHARTED},
              list(stats.CHARTED))
RATE = {"type": ["number", "null"], "minimum": 0}
DASHBOARD = obj({
    "scope": {"enum": ["national", "department"]},
    "department_code": {"type": ["string", "null"]},
    "weeks": {"type": "array", "items": {"type": "string", "format": "date"}},
    "statuses": {"type": "array", "items": obj({"status": {"type": "string"}, "label": {"type": "string"}},
                                               ["status", "label"])},
    "orders": _SERIES,
    "cards": _SERIES,
    "delay": obj({"handed_over": {"type": "integer"}, "median_days": {"type": ["integer", "null"]},
                  "p90_days": {"type": ["integer", "null"]}, "max_days": {"type": "integer"},
                  "histogram": {"type": "array", "items": obj({"days": {"type": "integer"},
                                                               "orders": {"type": "integer"}}, ["days", "orders"])}},
                 ["handed_over", "median_days", "p90_days", "max_days", "histogram"]),
    "rejections": {"type": "array", "items": obj({"reason": {"type": "string"}, "label": {"type": "string"},
                                                  "count": {"type": "integer"}, "out_of": {"type": "integer"},
                                                  "rate": RATE}, ["reason", "label", "count", "out_of", "rate"])},
    "photo_checks": {"type": "array", "description": "Les vérifications de l'assistant photo signalées sur les "
                     "cartes des demandes envoyées, par motif (sur la période).",
                     "items": obj({"code": {"type": "string", "enum": list(stats.PHOTO_CHECK_LABELS)},
                                   "label": {"type": "string"}, "count": {"type": "integer"},
                                   "out_of": {"type": "integer"}, "rate": RATE},
                                  ["code", "label", "count", "out_of", "rate"])},
    "communes": obj({"eligible": {"type": "integer", "minimum": 0}, "ordered": {"type": "integer", "minimum": 0},
                     "without_order": {"type": "integer", "minimum": 0}}, ["eligible", "ordered", "without_order"]),
    "cards_to_return": {"type": "integer", "minimum": 0},
}, ["scope", "department_code", "weeks", "statuses", "orders", "cards", "delay", "rejections", "photo_checks",
    "communes", "cards_to_return"])
COMMUNE_WITHOUT_ORDER = obj({"siren": {"type": "string"}, "insee_code": {"type": "string"},
                             "name": {"type": "string"}, "registered": {"type": "boolean"}},
                            ["siren", "insee_code", "name", "registered"])

COMMUNE_PROGRESS = obj({name: {"type": "integer", "minimum": 0} for name in
                        ("eligible", "registered", "ordered", "handed_over")},
                       ["eligible", "registered", "ordered", "handed_over"])


# --- the second factor, « Mes sessions », ProConnect ---------------------------------------------------------------
SECOND_FACTOR_STATUS = obj({"enabled": {"type": "boolean"}, "required": {"type": "boolean"},
                            "enabled_at": {"type": ["string", "null"], "format": "date-time"},
                            "recovery_codes_left": {"type": "integer"}},
                           ["enabled", "required", "enabled_at", "recovery_codes_left"])
SECOND_FACTOR_ENROLMENT = obj({"secret": {"type": "string"}, "otpauth_uri": {"type": "string"},
                               "qr_code": {"type": "string", "description": "SVG image as a data: URI"},
                               "digits": {"type": "integer"}, "period_seconds": {"type": "integer"},
                               "algorithm": {"type": "string"}},
                              ["secret", "otpauth_uri", "qr_code", "digits", "period_seconds", "algorithm"])
SECOND_FACTOR_CONFIRM = obj({"otp": {"type": "string", "minLength": 1, "maxLength": 10}}, ["otp"])
SECOND_FACTOR_ENABLED = obj({"enabled_at": TIME, "recovery_codes": {"type": "array", "items": {"type": "string"}}},
                            ["enabled_at", "recovery_codes"])
OPEN_SESSION = obj({"id": {"type": "string"}, "device": {"type": "string"},
                    "source_ip": {"type": ["string", "null"]}, "created_at": TIME, "last_used_at": TIME,
                    "current": {"type": "boolean"}, "method": {"type": "string", "enum": ["password", "proconnect"]}},
                   ["id", "device", "created_at", "last_used_at", "current", "method"])
OPEN_SESSIONS = obj({"items": {"type": "array", "items": OPEN_SESSION}}, ["items"])
SESSION_REVOCATION = obj({"email": EMAIL}, ["email"])
PROCONNECT_AUTHORIZATION = obj({"authorization_url": {"type": "string"}, "expires_in": {"type": "integer"}},
                               ["authorization_url", "expires_in"])
PROCONNECT_CALLBACK = obj({"code": {"type": "string", "minLength": 1, "maxLength": 2048},
                           "state": {"type": "string", "minLength": 1, "maxLength": 512}}, ["code", "state"])
PROCONNECT_TICKET = obj({"ticket": {"type": "string", "minLength": 1, "maxLength": 512}, "otp": OTP}, ["ticket", "otp"])
PROCONNECT_LOGOUT = obj({"logout_url": {"type": ["string", "null"]}}, ["logout_url"])


# --- webhooks (domain/webhooks.py) -----------------------------------------------------------------------------------
WEBHOOK_EVENT_TYPE = {"type": "string", "enum": list(hooks.EVENTS)}
_NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
WEBHOOK_NEW = obj({"url": {"type": "string", "minLength": 1, "maxLength": hooks.MAX_URL_LENGTH,
                           "description": "Adresse HTTPS du récepteur, joignable sur internet."},
                   "events": {"type": "array", "items": WEBHOOK_EVENT_TYPE, "minItems": 1, "uniqueItems": True}},
                  ["url", "events"])
WEBHOOK = obj({"id": {"type": "string"}, "url": {"type": "string"},
               "events": {"type": "array", "items": WEBHOOK_EVENT_TYPE}, "created_at": TIME,
               "created_by": {"type": "string"}, "disabled": {"type": "boolean"}, "disabled_at": _NULLABLE_TIME},
              ["id", "url", "events", "created_at", "created_by", "disabled", "disabled_at"])
WEBHOOK_CREATED = obj({**WEBHOOK["properties"],
                       "secret": {"type": "string", "description": "Secret de signature, donné dans cette seule "
                                                                   "réponse : à garder pour vérifier les envois."}},
                      WEBHOOK["required"] + ["secret"])
WEBHOOK_ATTEMPT = obj({"at": TIME, "http_status": {"type": ["integer", "null"]}, "error": {"type": ["string", "null"]}},
                      ["at", "http_status", "error"])
WEBHOOK_DELIVERY = obj({
    "id": {"type": "string"}, "event_id": {"type": "string"}, "event_type": WEBHOOK_EVENT_TYPE,
    "event_label": {"type": "string"}, "status": {"type": "string", "enum": ["pending", "delivered", "failed"]},
    "status_label": {"type": "string"}, "attempts": {"type": "integer", "minimum": 0}, "created_at": TIME,
    "last_attempt_at": _NULLABLE_TIME, "last_http_status": {"type": ["integer", "null"]},
    "last_error": {"type": ["string", "null"]}, "next_attempt_at": _NULLABLE_TIME, "delivered_at": _NULLABLE_TIME,
    "history": {"type": "array", "items": WEBHOOK_ATTEMPT}},
    ["id", "event_id", "event_type", "status", "attempts", "created_at", "history"])
# What a receiver gets: the body POSTed (published in the document's ``webhooks`` section).
WEBHOOK_EVENT = obj({
    "id": {"type": "string", "description": "Identifiant de l'événement : le même à chaque nouvel essai."},
    "type": WEBHOOK_EVENT_TYPE, "occurred_at": TIME,
    "commune": obj({"siren": {"type": "string"}, "insee_code": {"type": ["string", "null"]},
                    "name": {"type": ["string", "null"]}}, ["siren", "insee_code", "name"]),
    "department_code": {"type": ["string", "null"]},
    "data": {"type": "object", "description": "Selon le type : `order_id`, `card_number`, `official_id`, "
                                              "`old_status`, `new_status`…"}},
    ["id", "type", "occurred_at", "commune", "department_code", "data"])
