"""The one error type of the portal.

Every failure a person or a program must understand is a ``PortalError``: an HTTP status, a stable snake_case ``code``
for programs and a French ``message`` for people, optionally ``details`` (per field, per line, per official).
The API layer turns it into ``{"code", "message", "details"?}``; nothing else reaches the client.

The domain's rules refuse without knowing HTTP (``domain.changes.Refused``): a route answers a refusal with the status
it declares for the code (``api/routing.py``, the same declaration the OpenAPI document publishes), else the status
below.
"""
from .domain.changes import Refused

# A refusal's status when its route does not declare the code.
REFUSAL_STATUS = {"invalid_request": 400, "invalid_cursor": 400, "invalid_crop": 400, "forbidden": 403,
                  "not_found": 404, "already_registered": 409, "card_in_progress": 409, "invalid_transition": 409,
                  "no_original": 409, "too_many_attempts": 429,
                  "mandate_ended": 409, "card_already_issued": 409, "declaration_required": 409,
                  "invalid_card_transition": 409, "already_handed_over": 409, "card_declared": 409,
                  "card_in_use": 409, "not_handed_over": 409, "not_undoable": 409}


class PortalError(Exception):
    def __init__(self, status: int, code: str, message: str, details=None, headers=None):
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}

    def body(self) -> dict:
        body = {"code": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body


def unauthenticated() -> PortalError:
    """No session, or one that expired or was closed (here, not in ``services/sessions.py``: the services that check a
    session's account, the second factor's among them, answer it without importing the sessions)."""
    return PortalError(401, "unauthenticated", "Votre session a expiré ou n'est pas valide. Veuillez vous reconnecter.")


def from_refusal(refused: Refused, declared: dict | None = None) -> PortalError:
    """``declared``: the route's ``{status: [codes]}``."""
    status = next((status for status, codes in (declared or {}).items() if refused.code in codes), None)
    retry_after = getattr(refused, "retry_after", None)  # a limit's refusal says when to try again
    return PortalError(status or REFUSAL_STATUS.get(refused.code, 422), refused.code, refused.message,
                       details=refused.details, headers={"Retry-After": str(retry_after)} if retry_after else None)


class OAuthError(PortalError):
    """An error of the token endpoint (``POST /oauth/token``, ``services/api_clients.py``): RFC 6749 §5.2's ``error``
    and ``error_description``, which OAuth libraries read, beside the portal's ``code`` and ``message`` (the same
    code: the RFC's names are snake_case already)."""

    def body(self) -> dict:
        return {"error": self.code, "error_description": self.message, **super().body()}


def oauth_invalid_request(message: str) -> OAuthError:
    return OAuthError(400, "invalid_request", message)
