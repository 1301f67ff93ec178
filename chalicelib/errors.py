"""The one error type of the portal.

Every failure a person or a program must understand is a ``PortalError``: an HTTP status, a stable snake_case ``code``
for programs and a French ``message`` for people, optionally ``details`` (per field, per line, per official).
The API layer turns it into ``{"code", "message", "details"?}``; nothing else reaches the client.
"""


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
