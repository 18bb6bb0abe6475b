"""Helpers of the photo pipeline's tests: real pictures made with Pillow (orientations, EXIF, colour
profiles, damaged and oversized files) and assertions on what comes out."""
from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import ExifTags, Image, ImageCms

from app.photos.pipeline import THUMB_EDGE, PhotoRejected, ProcessedPhoto, process_photo


MAX_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 40_000_000

RED, GREEN, BLUE, YELLOW = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)
WHITE = (255, 255, 255)

XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:xmpsecret="http://example.com/s/" xmpsecret:Where="Block 7 flat 1203"/>'
    b"</rdf:RDF></x:xmpmeta>"
)
COMMENT = b"secret comment: Block 7 flat 1203"


# --- helpers: making test pictures -----------------------------------------------------------


def quadrants(size: tuple[int, int]) -> Image.Image:
    """An upright picture that shows which way it is turned: red top-left, green top-right,
    blue bottom-left, yellow bottom-right."""
    w, h = size
    im = Image.new("RGB", size, YELLOW)
    im.paste(RED, (0, 0, w // 2, h // 2))
    im.paste(GREEN, (w // 2, 0, w, h // 2))
    im.paste(BLUE, (0, h // 2, w // 2, h))
    return im


# How to store an upright picture so that a viewer honouring EXIF `orientation` shows it upright.
STORE_FOR_ORIENTATION = {
    1: None,
    3: Image.Transpose.ROTATE_180,
    6: Image.Transpose.ROTATE_90,  # the viewer turns it 90° clockwise
    8: Image.Transpose.ROTATE_270,  # the viewer turns it 90° counter-clockwise
}


def stored_as(upright: Image.Image, orientation: int) -> Image.Image:
    method = STORE_FOR_ORIENTATION[orientation]
    return upright if method is None else upright.transpose(method)


def make_exif(
    orientation: int | None = None,
    taken: str | None = "2024:05:01 09:30:00",
    offset: str | None = None,
    subsec: str | None = None,
    gps: bool = True,
) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestCam"
    exif[ExifTags.Base.Model] = "Secret Model 9"
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    if taken is not None:
        sub[ExifTags.Base.DateTimeOriginal] = taken
    if offset is not None:
        sub[ExifTags.Base.OffsetTimeOriginal] = offset
    if subsec is not None:
        sub[ExifTags.Base.SubsecTimeOriginal] = subsec
    if gps:
        g = exif.get_ifd(ExifTags.IFD.GPSInfo)
        g[ExifTags.GPS.GPSLatitudeRef] = "N"
        g[ExifTags.GPS.GPSLatitude] = (31.0, 13.0, 45.5)
        g[ExifTags.GPS.GPSLongitudeRef] = "E"
        g[ExifTags.GPS.GPSLongitude] = (121.0, 28.0, 12.25)
    return exif


def encode(im: Image.Image, fmt: str, **kw) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **kw)
    return out.getvalue()


def camera_jpeg(
    size=(400, 300), orientation: int | None = 6, *, exif: Image.Exif | None = None, **kw
) -> bytes:
    """An upright quadrant picture stored the way a camera would, with EXIF (orientation, GPS,
    DateTimeOriginal), XMP, a COM comment and an ICC profile."""
    if exif is None:
        exif = make_exif(orientation)
    kw.setdefault("quality", 92)
    return encode(
        stored_as(quadrants(size), orientation or 1),
        "JPEG",
        exif=exif.tobytes(),
        xmp=XMP,
        comment=COMMENT,
        icc_profile=srgb_icc(),
        **kw,
    )


def srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def noise_jpeg(size=(800, 600)) -> bytes:
    """Compresses like a photo (so half the file is half the picture)."""
    return encode(Image.effect_noise(size, 60).convert("RGB"), "JPEG", quality=90)


def png_header_only(width: int, height: int) -> bytes:
    """A valid PNG signature and IHDR claiming width x height, a tiny IDAT and IEND: a pixel bomb
    that costs nothing to make."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def jpeg_claiming(width: int, height: int) -> bytes:
    """A tiny real JPEG whose frame header (SOF0) is patched to claim width x height."""
    data = encode(Image.new("RGB", (16, 16)), "JPEG")
    sof = data.index(b"\xff\xc0")
    return data[: sof + 5] + struct.pack(">HH", height, width) + data[sof + 9 :]


def process(data: bytes, **kw) -> ProcessedPhoto:
    kw.setdefault("max_bytes", MAX_BYTES)
    kw.setdefault("max_pixels", MAX_PIXELS)
    return process_photo(data, **kw)


def rejected(data: bytes, **kw) -> PhotoRejected:
    with pytest.raises(PhotoRejected) as info:
        process(data, **kw)
    return info.value


def reopen(jpeg: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(jpeg))
    assert im.format == "JPEG"
    return im


def assert_colour(im: Image.Image, xy: tuple[float, float], expected: tuple[int, int, int], tol: int = 40) -> None:
    x, y = int(xy[0] * im.width), int(xy[1] * im.height)
    got = im.convert("RGB").getpixel((x, y))
    assert all(abs(g - e) <= tol for g, e in zip(got, expected, strict=True)), f"pixel at {xy}: {got}, wanted {expected}"


def assert_upright(im: Image.Image) -> None:
    assert_colour(im, (0.25, 0.25), RED)
    assert_colour(im, (0.75, 0.25), GREEN)
    assert_colour(im, (0.25, 0.75), BLUE)
    assert_colour(im, (0.75, 0.75), YELLOW)


def assert_no_metadata(jpeg: bytes) -> None:
    im = reopen(jpeg)
    for key in ("exif", "xmp", "comment", "icc_profile", "photoshop", "adobe"):
        assert key not in im.info, f"{key} left in the output"
    assert not any(k.startswith(("XML", "Raw profile")) for k in im.info)
    assert len(im.getexif()) == 0
    # and in the raw bytes, whatever Pillow would or would not parse:
    for marker in (b"Exif\x00\x00", b"http://ns.adobe.com/xap", b"ICC_PROFILE", b"Block 7", b"TestCam", b"Secret"):
        assert marker not in jpeg, f"{marker!r} found in the output"
    app_segments = [seg for seg, _ in getattr(im, "applist", []) if seg != "APP0"]
    assert app_segments == [], f"metadata segments left: {app_segments}"


def assert_sizes(result: ProcessedPhoto, display: tuple[int, int]) -> None:
    assert (result.width, result.height) == display
    shown = reopen(result.display)
    assert shown.size == display and shown.mode == "RGB"
    thumb = reopen(result.thumbnail)
    assert max(thumb.size) == min(THUMB_EDGE, max(display))
    assert thumb.mode == "RGB"
    # same shape as the display image (within rounding)
    assert abs(thumb.width / thumb.height - display[0] / display[1]) < 0.02
