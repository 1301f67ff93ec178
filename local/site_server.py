"""Serves site/ as a static site, with the headers production's CloudFront adds, and the API address in /config.json."""
import functools
import json
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SITE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: {api} {files}; "
        "font-src 'self'; connect-src 'self' {api} {files}; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


class SiteHandler(SimpleHTTPRequestHandler):
    def __init__(self, *args, config: dict, headers: dict, **kwargs):
        self._config = config
        self._extra_headers = headers
        super().__init__(*args, **kwargs)

    def do_GET(self):
        if self.path.split("?")[0] == "/config.json":
            body = json.dumps(self._config).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def end_headers(self):
        for name, value in self._extra_headers.items():
            self.send_header(name, value)
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, format, *args):  # noqa: A002 - the stack prints its own summary; keep the console calm
        pass


def start_site_server(site_dir: Path, host: str, port: int, api_url: str, files_url: str) -> ThreadingHTTPServer:
    headers = {name: value.format(api=api_url, files=files_url) for name, value in SITE_HEADERS.items()}
    handler = functools.partial(SiteHandler, directory=str(site_dir), config={"api_url": api_url}, headers=headers)
    server = ThreadingHTTPServer((host, port), handler)
    threading.Thread(target=server.serve_forever, name="site", daemon=True).start()
    return server
