"""Writes the demo ID photos of data/photos/ (committed; run again only to change them):

    .venv/bin/python scripts/make_demo_photos.py

Each photo is a real portrait shipped inside a registry package (the photo assistant's labelled set,
tests/unit/assistant_set.py), cut out and placed on a plain light background, framed as the ANTS norm wants it for a
35 x 45 crop of the whole picture: the photo assistant accepts it as it is, so a newcomer can upload it and order a card.
"""
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from tests.unit import assistant_set as aset  # noqa: E402
from tests.unit.photo_corpus import full_crop  # noqa: E402

CANVAS = (1050, 1350)  # 35:45, a phone photo cropped to the ID ratio
# file name -> (portrait of the labelled set, background colour)
PHOTOS = {
    "portrait-astronaute.jpg": ("astronaut", "230,232,236"),
    "portrait-grace-hopper.jpg": ("grace", "226,230,234"),
}


def demo_photo(portrait: str, background: str) -> bytes:
    width, height = CANVAS
    crop = full_crop(CANVAS)
    head = 0.75 * crop["height"]  # chin to crown: the middle of the norm's 70-80 % band
    # Skull top 9 % below the photo's top, eyes 1.74 eye-distances below it (the assistant's own proportions).
    eyes_y = crop["y"] + 0.09 * crop["height"] + head * 1.74 / (1.74 + 1.715)
    sample = aset.Sample(f"demo-{portrait}", canvas=CANVAS, background=f"plain:{background}",
                         heads=(aset.Placement(portrait, head, (width / 2, eyes_y)),))
    return aset.jpeg(sample, quality=88)


def main() -> None:
    folder = PROJECT_DIR / "data" / "photos"
    folder.mkdir(parents=True, exist_ok=True)
    for name, (portrait, background) in PHOTOS.items():
        (folder / name).write_bytes(demo_photo(portrait, background))
        print(folder / name)


if __name__ == "__main__":
    main()
