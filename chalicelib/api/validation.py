"""Request bodies checked against their JSON Schema (the same schemas the OpenAPI document publishes).

Errors come back as one ``invalid_request`` with a French message per field in ``details``, so the site can show each
next to its input. Unknown fields are refused (``additionalProperties: false``): a client cannot slip in a status, a
card number or another commune's id.
"""
import json
from datetime import datetime
from functools import lru_cache

from ..errors import PortalError


@lru_cache(maxsize=None)
def _validator(schema_key: str):
    # cold start: jsonschema 45 ms, only the routes that take a JSON body need it (none of the reads)
    from jsonschema import Draft202012Validator

    return Draft202012Validator(json.loads(schema_key))


def validate(data, schema: dict, message: str = "Certains champs sont manquants ou invalides.") -> None:
    validator = _validator(json.dumps(schema, sort_keys=True))
    details = {}
    for error in validator.iter_errors(data):
        field_name, reason = _describe(error)
        details.setdefault(field_name, reason)
    if details:
        raise PortalError(400, "invalid_request", message, details=details)


def _describe(error) -> tuple[str, str]:
    path = ".".join(str(p) for p in error.absolute_path)
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "?"
        return (f"{path}.{missing}" if path else missing), "Ce champ est obligatoire."
    if error.validator == "pattern":
        return path or "corps", "Format invalide."
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return (extra[0] if extra else path or "corps"), "Ce champ n'est pas accepté."
    if error.validator == "type":
        return path or "corps", "Type de valeur invalide."
    if error.validator in ("minLength",) and error.validator_value == 1:
        return path, "Ce champ est obligatoire."
    if error.validator == "maxLength":
        return path, f"Trop long : {error.validator_value} caractères au plus."
    if error.validator == "enum":
        return path, "Valeur non autorisée : " + ", ".join(map(str, error.validator_value)) + "."
    if error.validator in ("minimum", "maximum", "exclusiveMinimum"):
        return path, "Valeur hors des limites autorisées."
    if error.validator in ("minItems", "maxItems", "uniqueItems"):
        return path, "Nombre d'éléments non autorisé."
    return path or "corps", "Valeur invalide."


def since(value: str | None) -> datetime | None:
    """``updated_since``: an RFC 3339 date-time with its offset (``Z`` or ``+01:00``), else a clear 400. Without an
    offset the instant would depend on the caller's time zone: refused rather than guessed."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value) if "T" in value.upper() else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise PortalError(400, "invalid_request", "La date « updated_since » est invalide : donnez un instant RFC 3339 "
                          "avec son décalage horaire, par exemple 2026-03-02T09:00:00Z.",
                          details={"updated_since": "Format attendu : AAAA-MM-JJTHH:MM:SSZ (ou +01:00)."})
    return moment
