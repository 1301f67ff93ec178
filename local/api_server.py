"""The API as `chalice local` serves it, made to answer like the deployed API Gateway.

`chalice local` mimics API Gateway's defaults: an unknown path gets an English 403 « Missing Authentication Token »,
and a known path with another method reaches the app, which answers 405. Deployed, both are API Gateway's
MISSING_AUTHENTICATION_TOKEN, which the template turns into the portal's 404 ``route_not_found`` (in French, the
API's error shape): the local stack answers exactly that. Chalice's own access log line is dropped too: the app's
middleware already logs each request as JSON.
"""
import functools

from chalice.cli import create_local_server
from chalice.local import ChaliceRequestHandler, LocalGatewayException

from chalicelib.api.gateway import ROUTE_NOT_FOUND


class GatewayLikeHandler(ChaliceRequestHandler):
    def _send_error_response(self, error: LocalGatewayException) -> None:
        # The portal has no authorizer: chalice local raises only for a path that no route has.
        self._send_route_not_found()

    def _send_http_response(self, code, headers, body) -> None:
        if code == 405:  # a path the app has, with a method it has not: API Gateway never lets it through
            self._send_route_not_found()
            return
        super()._send_http_response(code, headers, body)

    def _send_route_not_found(self) -> None:
        body = ROUTE_NOT_FOUND.body().encode()
        headers = {"Content-Type": "application/json", "X-Content-Type-Options": "nosniff",
                   "Cache-Control": "no-store"}
        super()._send_http_response(ROUTE_NOT_FOUND.status, headers, body)

    def log_message(self, format, *args):  # noqa: A002
        pass


def create_api_server(factory, host: str, port: int, stage: str):
    """chalice local's server (no autoreload: its reloader forks a child that outlives us) with our handler."""
    server = create_local_server(factory, host, port, stage)
    chalice_handler = server.server.RequestHandlerClass
    server.server.RequestHandlerClass = functools.partial(GatewayLikeHandler, *chalice_handler.args,
                                                          **chalice_handler.keywords)
    return server
