"""A local stand-in for data.gouv.fr: the dataset API (``GET /api/1/datasets/<id>/``) and its files, as the sync
(``chalicelib/services/reference_syncs.py``) reads them. Used by the local stack (``make run``: the RNE files of
``data/reference/``) and by the tests, which publish new versions and break downloads.

Each resource has the fields of the real API that the sync reads (``id``, ``title``, ``url``, ``last_modified``,
``checksum: {"type": "sha1", "value"}``, ``filesize``, ``format``, ``mime``); its file is served at
``/fichiers/<resource id>/<title>``. A test in the same process calls ``publish`` and ``break_next_download``; one
driving the local stack over HTTP uses the control routes under ``/_fake/`` (local only, no authentication):

- ``PUT /_fake/resources/<id>?title=<title>``, the file as body: publishes a new version (new checksum and date);
- ``POST /_fake/resources/<id>/break?mode=cut|corrupt|error``: the next download of it breaks (the connection cut
  half-way, other bytes than the checksum says, or a 500);
- ``GET /_fake/downloads``: how many times each file was downloaded.
"""
import hashlib
import json
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

BREAKS = ("cut", "corrupt", "error")


class FakeDataGouv:
    def __init__(self, dataset_id: str, host: str = "127.0.0.1", port: int = 0):
        self.dataset_id = dataset_id
        self._lock = threading.Lock()
        self._resources: dict[str, dict] = {}  # id -> {"title", "content", "last_modified"}
        self._breaks: dict[str, str] = {}
        self.downloads: dict[str, int] = {}
        self._server = ThreadingHTTPServer((host, port), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-datagouv", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakeDataGouv":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- what tests do ----------------------------------------------------------------------------------------

    def publish(self, resource_id: str, title: str, content: bytes) -> dict:
        """A new version of the resource (or a new resource): new checksum, ``last_modified`` later than before."""
        with self._lock:
            previous = self._resources.get(resource_id)
            moment = datetime.now(timezone.utc).replace(microsecond=0)
            if previous and moment <= previous["last_modified"]:
                moment = previous["last_modified"] + timedelta(seconds=1)
            self._resources[resource_id] = {"title": title, "content": bytes(content), "last_modified": moment}
            return self._describe(resource_id)

    def remove(self, resource_id: str) -> None:
        with self._lock:
            self._resources.pop(resource_id, None)

    def break_next_download(self, resource_id: str, mode: str = "cut") -> None:
        if mode not in BREAKS:
            raise ValueError(f"mode: one of {BREAKS}")
        with self._lock:
            self._breaks[resource_id] = mode

    def downloads_of(self, resource_id: str) -> int:
        with self._lock:
            return self.downloads.get(resource_id, 0)

    # --- what the server answers ------------------------------------------------------------------------------

    def _describe(self, resource_id: str) -> dict:
        resource = self._resources[resource_id]
        content = resource["content"]
        return {
            "id": resource_id, "title": resource["title"], "format": "csv", "mime": "text/csv", "filetype": "file",
            "type": "main", "url": f"{self.url}/fichiers/{resource_id}/{quote(resource['title'])}",
            "last_modified": resource["last_modified"].isoformat(), "filesize": len(content),
            "checksum": {"type": "sha1", "value": hashlib.sha1(content).hexdigest()},
        }

    def dataset(self) -> dict:
        with self._lock:
            return {"id": self.dataset_id, "title": "Répertoire national des élus (RNE)",
                    "slug": "repertoire-national-des-elus-1",
                    "resources": [self._describe(rid) for rid in self._resources]}

    def _take_file(self, resource_id: str) -> tuple[bytes, str | None] | None:
        with self._lock:
            resource = self._resources.get(resource_id)
            if resource is None:
                return None
            self.downloads[resource_id] = self.downloads.get(resource_id, 0) + 1
            return resource["content"], self._breaks.pop(resource_id, None)


def _handler(fake: FakeDataGouv):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):  # noqa: A002 - quiet: the stack's log is the portal's
            pass

        def _json(self, status: int, body) -> None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):  # noqa: N802 - http.server's name
            parts = [unquote(p) for p in urlsplit(self.path).path.strip("/").split("/")]
            if parts[:3] == ["api", "1", "datasets"] and len(parts) == 4:
                if parts[3] != fake.dataset_id:
                    return self._json(404, {"message": "Not Found", "status": 404})
                return self._json(200, fake.dataset())
            if parts[:1] == ["fichiers"] and len(parts) == 3:
                return self._file(parts[1])
            if parts == ["_fake", "downloads"]:
                with fake._lock:
                    return self._json(200, dict(fake.downloads))
            return self._json(404, {"message": "Not Found", "status": 404})

        def _file(self, resource_id: str) -> None:
            taken = fake._take_file(resource_id)
            if taken is None:
                return self._json(404, {"message": "Not Found", "status": 404})
            content, broken = taken
            if broken == "error":
                return self._json(500, {"message": "Internal Server Error", "status": 500})
            if broken == "corrupt":
                content = bytes(content[:-2]) + (b"XX" if not content.endswith(b"XX") else b"YY")
            self.send_response(200)
            self.send_header("Content-Type", "text/csv")
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            if broken == "cut":
                self.wfile.write(content[: len(content) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(content)

        def do_PUT(self):  # noqa: N802
            split = urlsplit(self.path)
            parts = [unquote(p) for p in split.path.strip("/").split("/")]
            if parts[:2] != ["_fake", "resources"] or len(parts) != 3:
                return self._json(404, {"message": "Not Found", "status": 404})
            title = parse_qs(split.query).get("title", [None])[0]
            length = int(self.headers.get("Content-Length") or 0)
            content = self.rfile.read(length)
            if not title:
                with fake._lock:
                    title = fake._resources.get(parts[2], {}).get("title")
            if not title:
                return self._json(400, {"message": "title missing", "status": 400})
            return self._json(200, fake.publish(parts[2], title, content))

        def do_POST(self):  # noqa: N802
            split = urlsplit(self.path)
            parts = [unquote(p) for p in split.path.strip("/").split("/")]
            if parts[:2] != ["_fake", "resources"] or len(parts) != 4 or parts[3] != "break":
                return self._json(404, {"message": "Not Found", "status": 404})
            mode = parse_qs(split.query).get("mode", ["cut"])[0]
            if mode not in BREAKS:
                return self._json(400, {"message": f"mode: one of {BREAKS}", "status": 400})
            fake.break_next_download(parts[2], mode)
            return self._json(200, {"resource_id": parts[2], "mode": mode})

    return Handler


def serve_reference_files(fake: FakeDataGouv, resource_ids: dict[str, str], reference_data: Path) -> None:
    """The RNE files of ``data/reference/`` under the configured resource ids (``{kind: resource id}``), with the
    titles data.gouv.fr gives them since 2026-08-11."""
    titles = {"rne_maires": ("elus-maire-mai.csv", "elus-maires-mai.csv"),
              "rne_cm": ("elus-conseiller-municipal-cm.csv", "elus-conseillers-municipaux-cm.csv")}
    for kind, (title, file_name) in titles.items():
        fake.publish(resource_ids[kind], title, (reference_data / file_name).read_bytes())
