"""What every HTTP response gets: errors in the portal's shape, security headers, an access log line."""
import hmac
import json
import logging
import time

from chalice import Response

from ..settings import get_settings

log = logging.getLogger("portal.access")

# Chalice answers some requests itself (wrong content type, wrong method) with {"Code", "Message"}: reshaped here.
CHALICE_ERRORS = {
    415: ("unsupported_media_type", "Le corps de la requête doit être au format JSON (Content-Type: application/json)."),
    405: ("method_not_allowed", "Cette méthode n'est pas acceptée pour cette adresse."),
    400: ("bad_request", "Requête invalide."),
    500: ("internal_error", "Une erreur inattendue s'est produite. Réessayez plus tard."),
}

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    # API answers carry personal data (names, birth dates, tokens): never kept by a browser or a proxy.
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}


def http_middleware(event, get_response):
    started = time.monotonic()
    response = _refused_origin(event) or get_response(event)
    if _is_chalice_error(response):
        code, message = CHALICE_ERRORS.get(response.status_code, CHALICE_ERRORS[400])
        response = Response(
            body=json.dumps({"code": code, "message": message}, ensure_ascii=False),
            status_code=response.status_code,
            headers={k: v for k, v in response.headers.items() if k.lower() != "content-type"}
            | {"Content-Type": "application/json; charset=utf-8"},
        )
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    log.info(
        "request",
        extra={"method": event.method, "path": event.context.get("resourcePath"), "status": response.status_code,
               "ms": round((time.monotonic() - started) * 1000)},
    )
    return response


def came_through_cloudfront(headers) -> bool:
    """True when the request carries the stage's origin secret, which only CloudFront adds (``X-Origin-Verify``), or
    when no secret is configured (the local stack and the tests, where nothing stands in front of the API)."""
    secret = get_settings().origin_secret
    if not secret:
        return True
    return hmac.compare_digest((headers.get("x-origin-verify") or "").encode(), secret.encode())


def viewer_address_trusted(headers) -> bool:
    """True only when the request carries the stage's origin secret: then CloudFront set ``CloudFront-Viewer-Address``
    (it overwrites a viewer's own). Without a configured secret (the local stack, the tests) nothing in front of the
    API sets that header, so a client could write it: the caller's own address is used instead."""
    return bool(get_settings().origin_secret) and came_through_cloudfront(headers)


def _refused_origin(event) -> Response | None:
    """Deployed, the API answers only requests that came through the site's CloudFront distribution: called directly
    on its execute-api address, a request could forge ``CloudFront-Viewer-Address`` and escape the per-source limits."""
    if came_through_cloudfront(event.headers):
        return None
    return Response(body=json.dumps({"code": "direct_access_refused", "message": "Accès direct à l'API refusé : "
                                     "passez par le site du portail."}, ensure_ascii=False),
                    status_code=403, headers={"Content-Type": "application/json; charset=utf-8"})


def _is_chalice_error(response: Response) -> bool:
    return isinstance(response.body, dict) and set(response.body) == {"Code", "Message"}
