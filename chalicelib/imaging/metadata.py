"""An upload's original without what the camera or phone wrote about it: GPS position, device, dates, comments.

The original is kept only so that the agent can re-crop without sending the file again; what a re-crop needs of it
is its compressed picture, its colour profile and its orientation. Segments are copied, never re-encoded (lossless,
and no decoder runs on the untrusted file here): SOI, then of the segments before the picture only JFIF (APP0),
the ICC profile (APP2 ``ICC_PROFILE``), Adobe's colour transform (APP14) and the picture's own tables; EXIF and XMP
(APP1), IPTC/Photoshop (APP13), every other APPn and comments (COM) are dropped. An EXIF orientation other than 1 is
written back as a minimal EXIF block holding that tag alone, so the re-crop turns the picture as the first crop did.
"""
import struct
import warnings
from io import BytesIO

_SOI, _SOS, _COM = 0xD8, 0xDA, 0xFE
_APP0, _APP1, _APP2, _APP14 = 0xE0, 0xE1, 0xE2, 0xEE
_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM and RSTn carry no length


class NotAJpeg(ValueError):
    """The segments of the file are not a JPEG's."""


def _kept(marker: int, payload: bytes) -> bool:
    if marker == _COM or marker == _APP1:
        return False
    if marker == _APP2:
        return payload.startswith(b"ICC_PROFILE\0")
    if 0xE0 <= marker <= 0xEF:
        return marker in (_APP0, _APP14)
    return True  # DQT, DHT, SOFn, DRI, ...: the picture itself


def orientation_exif(orientation: int) -> bytes:
    """An APP1 segment whose EXIF holds the orientation tag (0x0112) and nothing else."""
    tiff = b"MM\0*" + struct.pack(">I", 8) + struct.pack(">H", 1) \
        + struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack(">I", 0)
    payload = b"Exif\0\0" + tiff
    return struct.pack(">BBH", 0xFF, _APP1, len(payload) + 2) + payload


def strip_jpeg_metadata(data: bytes, orientation: int = 1) -> bytes:
    """The JPEG without its metadata (see the module docstring); raises NotAJpeg on a broken segment structure."""
    if data[:2] != b"\xff\xd8":
        raise NotAJpeg("no SOI")
    out = [data[:2]]
    if 2 <= orientation <= 8:
        out.append(orientation_exif(orientation))
    position = 2
    while True:
        if position + 2 > len(data) or data[position] != 0xFF:
            raise NotAJpeg(f"no marker at {position}")
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in _STANDALONE:
            out.append(data[position:position + 2])
            position += 2
            continue
        if position + 4 > len(data):
            raise NotAJpeg("truncated segment")
        length = struct.unpack(">H", data[position + 2:position + 4])[0]
        end = position + 2 + length
        if length < 2 or end > len(data):
            raise NotAJpeg("segment longer than the file")
        if marker == _SOS:
            out.append(data[position:])  # the picture, to the end: copied as it is
            return b"".join(out)
        if _kept(marker, data[position + 4:end]):
            out.append(data[position:end])
        position = end


def original_without_metadata(data: bytes) -> bytes:
    """The upload as the portal keeps it for re-crops: its metadata stripped, its EXIF orientation kept."""
    # cold start: PIL 0 ms, already imported by the image function (its only caller) for the photo check
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Corrupt EXIF data": the EXIF is being dropped anyway
            orientation = Image.open(BytesIO(data)).getexif().get(0x0112, 1)
    except Exception:  # noqa: BLE001 - a broken header only means no orientation to keep; the photo check judges
        orientation = 1
    return strip_jpeg_metadata(data, orientation if isinstance(orientation, int) else 1)
