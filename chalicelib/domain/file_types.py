"""How an uploaded file says what it is, from its first bytes: the one place for the signatures the portal checks
(a photo, a procès-verbal d'élection, a signed receipt), never the name or the Content-Type the browser sent."""

PDF_MAGIC = b"%PDF-"  # within the first 1,024 bytes (ISO 32000-1, 7.5.2: readers accept leading bytes)
JPEG_SIGNATURE = b"\xff\xd8\xff"  # SOI marker followed by the first marker's 0xFF


def is_pdf(head: bytes) -> bool:
    return PDF_MAGIC in head[:1024]


def is_jpeg(head: bytes) -> bool:
    return head.startswith(JPEG_SIGNATURE)
