"""The photo pipeline: check an uploaded picture, then make the display image and thumbnail.

Only JPEG, PNG and WebP are accepted, judged by the bytes themselves (never by the file
name or the declared type). The outputs carry no metadata at all (no EXIF, GPS, XMP, ICC
profile or comments); the capture time is kept as a field instead.

A photo the phone already shrank (a JPEG of at most DISPLAY_EDGE px whose segments are
nothing but pixels: JFIF header, tables, frame, scans, and at most an sRGB profile, which is
cut out) is kept byte for byte as the display image once its whole stream has decoded:
re-encoding it would cost a decode and an encode and only lose quality. Everything else is
decoded and written afresh.

Every refusal is a `PhotoRejected` with a stable `code` and a translatable message.
This module knows nothing about Flask requests: views call `process_photo()` with the bytes.
"""
from __future__ import annotations

import functools
import hashlib
import io
import re
import struct
import warnings
import zlib
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from PIL import ExifTags, Image

try:
    from PIL import ImageCms
except ImportError:  # a Pillow built without LittleCMS: colour profiles are then just dropped
    ImageCms = None

__all__ = [
    "DISPLAY_EDGE",
    "THUMB_EDGE",
    "PhotoRejected",
    "ProcessedPhoto",
    "process_photo",
]

DISPLAY_EDGE = 2048
THUMB_EDGE = 320
JPEG_QUALITY = 82

# Pillow's names for what we accept. A JPEG carrying several pictures (many phones write
# these) is opened by the JPEG plugin as "MPO"; it is still a JPEG to us.
_OPEN_FORMATS = ["JPEG", "PNG", "WEBP"]
_SOURCE_FORMAT = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WEBP"}

CODES = frozenset({"too_large", "not_an_image", "unsupported_format", "too_many_pixels", "damaged"})

# What the decoders raise on broken data (a truncated file, a bad chunk, a bad stream).
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, struct.error, zlib.error)

# EXIF orientation -> the transpose that makes the picture upright.
# Two cores on the target machine: one helper thread beside the request's own.
_WORKERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="photo")

_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

_EXIF_DATETIME = re.compile(r"^\s*(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_EXIF_OFFSET = re.compile(r"^\s*([+-])(\d{2}):?(\d{2})\s*$")


class PhotoRejected(Exception):
    """The upload is not a photo we can take. `code` is stable; `message` is for the person."""

    def __init__(self, code: str, message) -> None:
        if code not in CODES:
            raise ValueError(f"unknown PhotoRejected code {code!r}")
        # args stay (code,) so str(exc) and logging never need a request context.
        super().__init__(code)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ProcessedPhoto:
    display: bytes  # JPEG, long edge <= DISPLAY_EDGE, upright, no metadata
    thumbnail: bytes  # JPEG, long edge <= THUMB_EDGE, upright, no metadata
    width: int  # of the display image
    height: int
    source_format: str  # "JPEG" | "PNG" | "WEBP"
    captured_at: datetime | None  # aware, UTC
    sha256: str  # of the uploaded bytes, exactly as received


# --- refusals -------------------------------------------------------------------------------


def _megabytes(n: int) -> str:
    value = n / (1024 * 1024)
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def _megapixels(n: int) -> str:
    value = n / 1_000_000
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def _too_large(max_bytes: int) -> PhotoRejected:
    return PhotoRejected(
        "too_large",
        _l(
            "This photo is larger than %(limit)s MB. Please choose a smaller photo, "
            "or take it again at a lower camera resolution.",
            limit=_megabytes(max_bytes),
        ),
    )


def _not_an_image() -> PhotoRejected:
    return PhotoRejected(
        "not_an_image",
        _l("This file is not a photo. Please choose a picture in JPEG, PNG or WebP format."),
    )


def _unsupported_format() -> PhotoRejected:
    return PhotoRejected(
        "unsupported_format",
        _l(
            "This picture format is not supported. Please upload the photo as JPEG, PNG or WebP "
            "(on an iPhone, set the camera to “Most Compatible”)."
        ),
    )


def _too_many_pixels(max_pixels: int) -> PhotoRejected:
    return PhotoRejected(
        "too_many_pixels",
        _l(
            "This picture has more than %(limit)s megapixels. Please take the photo at a lower "
            "camera resolution, or make it smaller, and upload it again.",
            limit=_megapixels(max_pixels),
        ),
    )


def _damaged() -> PhotoRejected:
    return PhotoRejected(
        "damaged",
        _l(
            "This photo is damaged or was only partly uploaded. Please upload it again; "
            "if that fails, take the photo again."
        ),
    )


# --- recognising the file -------------------------------------------------------------------

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}
_BMP_HEADER_SIZES = {12, 40, 52, 56, 64, 108, 124}


def _looks_accepted(head: bytes) -> bool:
    """The signature of a JPEG, PNG or WebP (so a failure to open it means it is damaged)."""
    return (
        head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")) or head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    )


def _looks_like_other_image(head: bytes) -> bool:
    """The signature of a picture format we do not take (GIF, BMP, TIFF/raw, HEIC/AVIF, ...)."""
    if head.startswith((b"GIF87a", b"GIF89a")):
        return True
    if head[:2] == b"BM" and len(head) >= 18 and struct.unpack("<I", head[14:18])[0] in _BMP_HEADER_SIZES:
        return True
    if head.startswith((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")):  # TIFF, DNG and most raw
        return True
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:  # HEIC, HEIF, AVIF
        return True
    return head.startswith(
        (
            b"\x00\x00\x01\x00",  # ICO
            b"\x00\x00\x02\x00",  # CUR
            b"8BPS",  # Photoshop
            b"\x00\x00\x00\x0cjP  \r\n\x87\n",  # JPEG 2000
            b"\xff\x4f\xff\x51",  # JPEG 2000 codestream
            b"\xff\x0a",  # JPEG XL codestream
            b"\x00\x00\x00\x0cJXL \r\n\x87\n",  # JPEG XL container
            b"qoif",
        )
    )


@contextmanager
def _pillow_quiet():
    """Keep Pillow's warnings out of the way: we decide about pixels and broken metadata ourselves.

    Pillow warns (DecompressionBombWarning) above Image.MAX_IMAGE_PIXELS; our own check on the
    header size decides instead. Its UserWarnings are about odd metadata we throw away anyway.
    (warnings.catch_warnings is process-wide in Python 3.11; the filters set here are harmless
    if a concurrent thread sees them.)
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
        warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
        yield


# --- metadata we keep -----------------------------------------------------------------------


def _text(value) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str):
        return None
    return value.strip("\x00 ")


def _captured_at(exif: Image.Exif, camera_timezone: str) -> datetime | None:
    """DateTimeOriginal as aware UTC: with OffsetTimeOriginal when the camera wrote one."""
    try:
        ifd = exif.get_ifd(ExifTags.IFD.Exif)
    except Exception:  # noqa: BLE001 -- broken EXIF: the photo is still fine, it just has no time
        return None
    raw = _text(ifd.get(ExifTags.Base.DateTimeOriginal))
    match = _EXIF_DATETIME.match(raw or "")
    if not match:
        return None
    try:
        local = datetime(*(int(part) for part in match.groups()))
    except ValueError:  # "0000:00:00 00:00:00" and other impossible dates
        return None
    subsec = _text(ifd.get(ExifTags.Base.SubsecTimeOriginal))
    if subsec and subsec.isdigit():
        local = local.replace(microsecond=int(subsec[:6].ljust(6, "0")))
    offset = _EXIF_OFFSET.match(_text(ifd.get(ExifTags.Base.OffsetTimeOriginal)) or "")
    if offset:
        sign, hours, minutes = offset.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes))
        if delta < timedelta(hours=15):
            tz = timezone(-delta if sign == "-" else delta)
            return local.replace(tzinfo=tz).astimezone(UTC)
    return local.replace(tzinfo=ZoneInfo(camera_timezone)).astimezone(UTC)


def _orientation(exif: Image.Exif) -> int:
    value = exif.get(ExifTags.Base.Orientation)
    return value if isinstance(value, int) and value in _ORIENTATION else 1


# --- a JPEG the phone made -------------------------------------------------------------------

_PLAIN_FRAMES = {0xC0, 0xC1, 0xC2}  # baseline, extended, progressive Huffman (8-bit)
_TABLES = {0xC4, 0xDB, 0xDD}  # DHT, DQT, DRI
# In entropy-coded data 0xFF is followed by 0x00 (stuffing), RSTn or more 0xFF (fill): any
# other byte after 0xFF is the next marker.
_MARKER_AFTER_SCAN = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")


@dataclass(frozen=True)
class _PlainJpeg:
    size: tuple[int, int]
    icc: bytes | None  # a colour profile (browsers tag their canvas JPEGs sRGB)
    profile_span: tuple[int, int] | None  # where that APP2 segment lies, to be cut out


def _plain_jpeg(data: bytes) -> _PlainJpeg | None:
    """A JPEG made only of pixels -- SOI, a JFIF APP0 without thumbnail, at most one ICC profile
    (APP2), DQT/DHT/DRI, one 8-bit frame, scans, EOI as the very last bytes -- else None.

    None means "not sure": the photo then takes the full path. Nothing here decodes pixels;
    that a plain file also decodes is checked afterwards."""
    if not data.startswith(b"\xff\xd8"):
        return None
    size, icc, span, pos, end = None, None, None, 2, len(data)
    while pos + 4 <= end:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        if length < 2 or pos + 2 + length > end:
            return None
        body = data[pos + 4:pos + 2 + length]
        if marker == 0xE0:
            if length != 16 or not body.startswith(b"JFIF\x00"):  # 16: no embedded thumbnail
                return None
        elif marker == 0xE2:
            # One whole profile in one segment ("ICC_PROFILE\0", chunk 1 of 1); anything else is not plain.
            if span is not None or not body.startswith(b"ICC_PROFILE\x00\x01\x01"):
                return None
            icc, span = body[14:], (pos, pos + 2 + length)
        elif marker in _PLAIN_FRAMES:
            if size is not None or length < 8 or body[0] != 8 or body[5] not in (1, 3):
                return None
            height, width = int.from_bytes(body[1:3], "big"), int.from_bytes(body[3:5], "big")
            if not width or not height:
                return None
            size = (width, height)
        elif marker == 0xDA:  # a scan: its data runs to the next marker
            found = _MARKER_AFTER_SCAN.search(data, pos + 2 + length) if size else None
            if found is None:
                return None
            pos = found.start()
            if data[pos + 1] == 0xD9:  # EOI: nothing may follow it
                return _PlainJpeg(size, icc, span) if pos + 2 == end else None
            continue
        elif marker not in _TABLES:  # EXIF, XMP, COM and anything else
            return None
        pos += 2 + length
    return None


def _srgb_or_untagged(icc: bytes | None) -> bool:
    if icc is None:
        return True
    if ImageCms is None:
        return False
    try:
        return not _needs_conversion(ImageCms.ImageCmsProfile(io.BytesIO(icc)))
    except Exception:  # noqa: BLE001 -- an unreadable profile: let the full path decide
        return False


def _kept_as_sent(data: bytes, plain: _PlainJpeg, digest) -> ProcessedPhoto:  # noqa: ANN001 - a Future
    """The display image is the upload itself (less its sRGB tag, which says what untagged
    means anyway); the thumbnail comes from a decode scaled down by the JPEG decoder, which
    still reads the whole stream, so a damaged file is refused."""
    size = plain.size
    with _pillow_quiet():
        try:
            source = Image.open(io.BytesIO(data), formats=["JPEG"])
            if source.size != size:
                raise _damaged()
            source.draft(source.mode if source.mode in ("L", "RGB") else "RGB", _fit(size, THUMB_EDGE))
            source.load()
        except _DECODE_ERRORS:
            raise _damaged() from None
    thumb = _thumbnail(_workable_mode(source))
    display = data if plain.profile_span is None else data[:plain.profile_span[0]] + data[plain.profile_span[1]:]
    return ProcessedPhoto(
        display=bytes(display), thumbnail=_jpeg(_flatten(thumb)), width=size[0], height=size[1],
        source_format="JPEG", captured_at=None, sha256=digest.result(),
    )


# --- pixels ---------------------------------------------------------------------------------


def _draft_scale(long_edge: int) -> int:
    """The largest JPEG decode reduction (8, 4, 2 or 1) that stays within 10% of the display size."""
    target = min(long_edge, DISPLAY_EDGE) * 0.9
    for scale in (8, 4, 2):
        if long_edge / scale >= target:
            return scale
    return 1


def _fit(size: tuple[int, int], edge: int) -> tuple[int, int]:
    width, height = size
    if max(width, height) <= edge:
        return size
    if width >= height:
        return edge, max(1, round(height * edge / width))
    return max(1, round(width * edge / height)), edge


def _workable_mode(im: Image.Image) -> Image.Image:
    """A mode that resamples well: RGB, L, or RGBA/LA when the picture has transparency."""
    mode = im.mode
    if mode in ("RGB", "L", "RGBA", "LA"):
        if "transparency" in im.info and mode in ("RGB", "L"):
            return im.convert("RGBA")
        return im
    if mode in ("P", "PA"):
        return im.convert("RGBA" if mode == "PA" or "transparency" in im.info else "RGB")
    if mode == "1":
        return im.convert("L")
    if mode.startswith("I"):
        # 16-bit grey (PNG): keep the top 8 bits.
        return im.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    if mode == "La":
        return im.convert("LA")
    if mode == "RGBa":
        return im.convert("RGBA")
    return im.convert("RGB")  # CMYK, YCbCr, LAB, HSV, ...


def _flatten(im: Image.Image) -> Image.Image:
    """RGB, with any transparency laid on white."""
    if im.mode in ("RGBA", "LA"):
        rgba = im.convert("RGBA") if im.mode == "LA" else im
        background = Image.new("RGB", im.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return im if im.mode == "RGB" else im.convert("RGB")


def _to_srgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    """Convert to sRGB when the picture carries another RGB profile (an iPhone's Display P3,
    Adobe RGB), since the profile itself is dropped: without this such photos look washed out.
    sRGB-tagged and untagged pictures are left alone (the conversion costs ~25 ms per 3 Mpx)."""
    if not icc or im.mode != "RGB" or ImageCms is None:
        return im
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if not _needs_conversion(source):
            return im
        return ImageCms.profileToProfile(im, source, _srgb_profile(), outputMode="RGB") or im
    except Exception:  # noqa: BLE001 -- an unreadable profile: keep the pixels as they are
        return im


def _needs_conversion(profile) -> bool:
    described = (profile.profile.profile_description or "").lower().replace(" ", "")
    return profile.profile.xcolor_space.strip() == "RGB" and "srgb" not in described


@functools.cache
def _srgb_profile():
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _thumbnail(im: Image.Image) -> Image.Image:
    """Box-reduce by a whole factor first, then bicubic over the last <= 1.5x (fast, still smooth)."""
    return im.resize(_fit(im.size, THUMB_EDGE), Image.Resampling.BICUBIC, reducing_gap=1.5)


def _jpeg(im: Image.Image) -> bytes:
    im.info = {}  # nothing of the source may ride along (Pillow writes info["comment"] by default)
    out = io.BytesIO()
    im.save(out, "JPEG", quality=JPEG_QUALITY, optimize=False)
    return out.getvalue()


# --- the pipeline ---------------------------------------------------------------------------


def process_photo(
    data: bytes,
    *,
    max_bytes: int,
    max_pixels: int,
    camera_timezone: str = "Asia/Shanghai",
) -> ProcessedPhoto:
    """Check an upload and make its display image and thumbnail, or raise PhotoRejected.

    Checks, in order: size in bytes (before anything is decoded), the format by content,
    the pixel count from the header (before decoding), then decodes (JPEGs scaled down by the
    decoder itself where that stays within 10% of DISPLAY_EDGE).
    """
    if len(data) > max_bytes:
        raise _too_large(max_bytes)
    # Pillow and hashlib release the GIL: hash while decoding, encode the display while the
    # thumbnail is made. Same work, less waiting for the steward's phone.
    digest = _WORKERS.submit(lambda: hashlib.sha256(data).hexdigest())
    head = bytes(data[:32])
    if not _looks_accepted(head):
        raise _unsupported_format() if _looks_like_other_image(head) else _not_an_image()

    plain = _plain_jpeg(data)
    if plain and max(plain.size) <= DISPLAY_EDGE and plain.size[0] * plain.size[1] <= max_pixels \
            and _srgb_or_untagged(plain.icc):
        return _kept_as_sent(data, plain, digest)

    with _pillow_quiet():
        try:
            # Not closed on purpose: it reads from memory, and when nothing needs changing the
            # decoded picture itself is saved (closing would free it; copying would cost a copy).
            source = Image.open(io.BytesIO(data), formats=_OPEN_FORMATS)
        except Image.DecompressionBombError:
            raise _too_many_pixels(max_pixels) from None
        except _DECODE_ERRORS:  # the signature is right but the header is not
            raise _damaged() from None

        source_format = _SOURCE_FORMAT.get(source.format or "")
        if source_format is None:  # cannot happen with the formats above; be sure anyway
            raise _unsupported_format()
        width, height = source.size
        if width < 1 or height < 1 or width * height > max_pixels:
            raise _too_many_pixels(max_pixels)

        scale = _draft_scale(max(width, height)) if source_format == "JPEG" else 1
        if scale > 1:
            source.draft("RGB", (max(1, width // scale), max(1, height // scale)))
        try:
            source.load()
        except Image.DecompressionBombError:
            raise _too_many_pixels(max_pixels) from None
        except _DECODE_ERRORS:
            raise _damaged() from None
        try:
            exif = source.getexif()
        except Exception:  # noqa: BLE001 -- unreadable EXIF does not spoil the picture
            exif = Image.Exif()
        orientation = _orientation(exif)
        captured_at = _captured_at(exif, camera_timezone)
        icc = source.info.get("icc_profile")

        im = _workable_mode(source)
        del source  # from here on only `im` holds pixels (the same picture, or a converted one)
        display_size = _fit(im.size, DISPLAY_EDGE)
        if display_size != im.size:
            im = im.resize(display_size, Image.Resampling.LANCZOS, reducing_gap=3.0)

    im = _to_srgb(_flatten(im), icc)
    upright = _ORIENTATION.get(orientation) if orientation != 1 else None
    display = _WORKERS.submit(_upright_jpeg, im, upright)
    # The small thumbnail is turned upright after shrinking, which costs next to nothing.
    thumbnail = _upright_jpeg(_thumbnail(im), upright)
    display_bytes, (width, height) = display.result()
    return ProcessedPhoto(
        display=display_bytes,
        thumbnail=thumbnail[0],
        width=width,
        height=height,
        source_format=source_format,
        captured_at=captured_at,
        sha256=digest.result(),
    )


def _upright_jpeg(im: Image.Image, transpose: Image.Transpose | None) -> tuple[bytes, tuple[int, int]]:
    if transpose is not None:
        im = im.transpose(transpose)
    return _jpeg(im), im.size
