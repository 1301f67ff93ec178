"""Serves site/ like production's CloudFront: static files with the site's security headers, and `/api/*` passed to the
API, so that the site and the API share one origin (no CORS to open) exactly as in production. As CloudFront does
(its viewer-request function, infra/template.py), an unknown page answers 404 with the site's own page
« Page introuvable », and a folder is never listed; other errors are short French pages, never Python's English ones.

Files are compressed as CloudFront compresses them (its site behaviour has ``Compress`` on and the managed
CachingOptimized policy, which keys on gzip and Brotli): Brotli when the browser accepts it, gzip otherwise, for the
types CloudFront compresses and files from 1,000 bytes; the API's answers pass uncompressed, as CloudFront leaves them
(its API policy keys on neither encoding). So a page measured here weighs what it weighs for a user.

This module owns how the site is served (its security headers, the API's prefix, the 404 page, the files' types):
``infra/`` builds production's CloudFront and uploads from these same values. The dependency goes one way, infra
imports local, never the reverse.
"""
import functools
import gzip
import html
import http.client
import json
import mimetypes
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import brotli

API_PREFIX = "/api"
# The site's 404 page (site-src/pages/), served for any unknown address here and by CloudFront (infra/template.py).
NOT_FOUND_PAGE = "page-introuvable.html"
# Each file's type with its charset, as served here and as uploaded to the site's bucket (infra/publish_site.py).
TYPES = {".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".html": "text/html; charset=utf-8",
         ".json": "application/json; charset=utf-8", ".map": "application/json; charset=utf-8",
         ".svg": "image/svg+xml", ".woff2": "font/woff2", ".woff": "font/woff", ".ico": "image/x-icon",
         ".webmanifest": "application/manifest+json", ".txt": "text/plain; charset=utf-8",
         ".xml": "application/xml; charset=utf-8"}
ERROR_TITLES = {400: "Requête invalide", 405: "Méthode non acceptée pour cette adresse du site",
                413: "Requête trop volumineuse", 414: "Adresse trop longue", 501: "Méthode non prise en charge"}
# CloudFront compresses files of 1,000 to 10,000,000 bytes whose type is in its list (text, scripts, JSON, SVG...;
# not the fonts in woff2 nor the images, which are compressed already).
COMPRESSIBLE = ("text/", "application/json", "application/javascript", "image/svg+xml", "image/x-icon",
                "application/manifest+json", "application/xml")
MIN_COMPRESSED, MAX_COMPRESSED = 1_000, 10_000_000
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "host", "content-length"}

SITE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: {files}; "
        "font-src 'self'; connect-src 'self' {files}; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def chosen_encoding(accept_encoding: str | None) -> str | None:
    """"br" or "gzip" as the browser's Accept-Encoding allows (Brotli first, as CloudFront), or None."""
    accepted = set()
    for item in (accept_encoding or "").split(","):
        name, _, params = item.strip().partition(";")
        quality = params.strip().removeprefix("q=").strip() if params.strip().startswith("q=") else "1"
        try:
            if float(quality) > 0:
                accepted.add(name.strip().lower())
        except ValueError:
            continue
    return next((encoding for encoding in ("br", "gzip") if encoding in accepted or "*" in accepted), None)


@functools.lru_cache(maxsize=256)
def compressed(path: str, mtime_ns: int, encoding: str) -> bytes:  # mtime_ns: a changed file is compressed anew
    body = Path(path).read_bytes()
    return brotli.compress(body, quality=11) if encoding == "br" else gzip.compress(body, 9, mtime=0)


def content_type(key: str) -> str:
    suffix = Path(key).suffix.lower()
    return TYPES.get(suffix) or mimetypes.guess_type(key)[0] or "application/octet-stream"


class SiteHandler(SimpleHTTPRequestHandler):
    def __init__(self, *args, config: dict, headers: dict, api_url: str, **kwargs):
        self._config = config
        self._extra_headers = headers
        self._api = urlsplit(api_url)
        super().__init__(*args, **kwargs)

    def _is_api(self) -> bool:
        return self.path == API_PREFIX or self.path.startswith(API_PREFIX + "/")

    def _proxy(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        connection = http.client.HTTPConnection(self._api.hostname, self._api.port, timeout=120)
        try:
            connection.request(self.command, self.path[len(API_PREFIX):] or "/", body=body, headers=headers)
            answer = connection.getresponse()
            payload = answer.read()
        finally:
            connection.close()
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self._proxied = True
        self.end_headers()
        self.wfile.write(payload)

    def do_POST(self):
        self._proxy() if self._is_api() else self.send_error(405)

    def do_PUT(self):
        self._proxy() if self._is_api() else self.send_error(405)

    def do_PATCH(self):
        self._proxy() if self._is_api() else self.send_error(405)

    def do_DELETE(self):
        self._proxy() if self._is_api() else self.send_error(405)

    def do_GET(self):
        if self._is_api():
            self._proxy()
            return
        if self.path.split("?")[0] == "/config.json":
            body = json.dumps(self._config).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if not self._send_compressed():
            super().do_GET()

    def _send_compressed(self) -> bool:
        """Answers with the file compressed when CloudFront would; False to let the plain answer go."""
        path = Path(self.translate_path(self.path))
        if path.is_dir() and self.path.split("?")[0].endswith("/"):
            path = path / "index.html"
        encoding = chosen_encoding(self.headers.get("Accept-Encoding"))
        if encoding is None or not path.is_file() or self.headers.get("If-Modified-Since"):
            return False  # a revalidation gets its 304 (or the plain file) from http.server
        kind = content_type(str(path))
        stat = path.stat()
        if not kind.startswith(COMPRESSIBLE) or not MIN_COMPRESSED <= stat.st_size <= MAX_COMPRESSED:
            return False
        body = compressed(str(path), stat.st_mtime_ns, encoding)
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Encoding", encoding)
        self.send_header("Vary", "Accept-Encoding")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Last-Modified", self.date_time_string(int(stat.st_mtime)))
        self.end_headers()
        self.wfile.write(body)
        return True

    def guess_type(self, path):
        """The types (with their charset) that the publication gives each file in the site's bucket."""
        return content_type(str(path))

    def list_directory(self, path):
        """CloudFront lists no folder: a folder without index.html is an unknown page."""
        self.send_error(404)
        return None

    def send_error(self, code, message=None, explain=None):  # http.server's signature, which its callers use
        """Every error in French: the site's « Page introuvable » for a 404, a short French page otherwise (Python's
        English ``message`` and ``explain`` are not shown)."""
        page = Path(self.directory) / NOT_FOUND_PAGE
        if code == 404 and page.is_file():
            body = page.read_bytes()
        else:
            title = html.escape(ERROR_TITLES.get(code, "Erreur"))
            body = (f'<!doctype html>\n<html lang="fr"><head><meta charset="utf-8"><title>{title} — Cartes '
                    f"d'identité des élus</title></head><body><main><h1>{title}</h1><p>Erreur {int(code)}. "
                    '<a href="/">Retour à l\'accueil</a></p></main></body></html>\n').encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.close_connection = True
        self.end_headers()
        if self.command != "HEAD" and code >= 200 and code not in (204, 304):
            self.wfile.write(body)

    def end_headers(self):
        if not getattr(self, "_proxied", False):  # the API sets its own headers
            for name, value in self._extra_headers.items():
                self.send_header(name, value)
            self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, format, *args):  # noqa: A002 - the stack prints its own summary; keep the console calm
        pass


def start_site_server(site_dir: Path, host: str, port: int, api_url: str, files_url: str) -> ThreadingHTTPServer:
    headers = {name: value.format(api=api_url, files=files_url) for name, value in SITE_HEADERS.items()}
    handler = functools.partial(SiteHandler, directory=str(site_dir), config={"api_url": API_PREFIX},
                                headers=headers, api_url=api_url)
    server = ThreadingHTTPServer((host, port), handler)
    threading.Thread(target=server.serve_forever, name="site", daemon=True).start()
    return server
