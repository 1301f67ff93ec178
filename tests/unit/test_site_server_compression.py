"""The local site server compresses as production's CloudFront does (Brotli first, then gzip, as Accept-Encoding
allows; the types CloudFront compresses, from 1,000 bytes): what Lighthouse measures locally is what users get."""
import gzip
from http.client import HTTPConnection

import brotli
import pytest

from local.site_server import chosen_encoding, start_site_server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    site = tmp_path_factory.mktemp("site")
    (site / "index.html").write_text("<!doctype html><title>x</title>" + "<p>Carte d'identité des élus</p>" * 200)
    (site / "css").mkdir()
    (site / "css" / "small.css").write_text("body{margin:0}")
    (site / "font.woff2").write_bytes(b"wOF2" + bytes(range(256)) * 20)
    running = start_site_server(site, "127.0.0.1", 0, "http://127.0.0.1:9", "http://127.0.0.1:9")
    yield site, running.server_address[1]
    running.shutdown()
    running.server_close()


def get(port: int, path: str, **headers):
    connection = HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers=headers)
    answer = connection.getresponse()
    body = answer.read()
    connection.close()
    return answer, body


@pytest.mark.parametrize("accepted, expected", [
    ("gzip, deflate, br, zstd", "br"), ("gzip, deflate", "gzip"), ("br;q=0, gzip", "gzip"), ("identity", None),
    (None, None), ("*", "br"), ("gzip;q=0.5, br;q=0", "gzip"), ("br;q=abc, gzip", "gzip"),
])
def test_the_encoding_follows_accept_encoding(accepted, expected):
    assert chosen_encoding(accepted) == expected


def test_a_page_is_sent_in_brotli_or_gzip_as_the_browser_accepts_and_plain_otherwise(server):
    site, port = server
    original = (site / "index.html").read_bytes()
    answer, body = get(port, "/index.html", **{"Accept-Encoding": "gzip, deflate, br"})
    assert answer.status == 200 and answer.getheader("Content-Encoding") == "br"
    assert answer.getheader("Vary") == "Accept-Encoding" and int(answer.getheader("Content-Length")) == len(body)
    assert brotli.decompress(body) == original and len(body) < len(original) / 10
    assert answer.getheader("Content-Security-Policy")  # the site's headers still go with it
    answer, body = get(port, "/", **{"Accept-Encoding": "gzip"})
    assert answer.getheader("Content-Encoding") == "gzip" and gzip.decompress(body) == original
    answer, body = get(port, "/index.html")
    assert answer.getheader("Content-Encoding") is None and body == original


def test_small_files_fonts_and_revalidations_are_sent_as_they_are(server):
    site, port = server
    answer, body = get(port, "/css/small.css", **{"Accept-Encoding": "br"})
    assert answer.getheader("Content-Encoding") is None and body == b"body{margin:0}"
    answer, body = get(port, "/font.woff2", **{"Accept-Encoding": "br"})
    assert answer.getheader("Content-Encoding") is None and body == (site / "font.woff2").read_bytes()
    first, _ = get(port, "/index.html", **{"Accept-Encoding": "br"})
    answer, body = get(port, "/index.html", **{"Accept-Encoding": "br", "If-Modified-Since": first.getheader("Last-Modified")})
    assert answer.status == 304 and body == b""
    answer, _ = get(port, "/nulle-part.html", **{"Accept-Encoding": "br"})
    assert answer.status == 404
