"""The photo pipeline's refusals (app/photos/pipeline.py): not an image, an unsupported format, a
damaged file, too many pixels or bytes, each with a readable message."""
from __future__ import annotations

import random
import struct
import warnings

import pytest
from flask_babel import force_locale
from PIL import Image, ImageFile

from app.photos import pipeline
from app.photos.pipeline import PhotoRejected

from tests.photos.pipeline_helpers import (
    MAX_BYTES,
    camera_jpeg,
    encode,
    jpeg_claiming,
    noise_jpeg,
    png_header_only,
    process,
    quadrants,
    rejected,
)


# --- refusals --------------------------------------------------------------------------------


def test_random_bytes_are_not_an_image():
    data = random.Random(1234).randbytes(10_000)
    assert rejected(data).code == "not_an_image"


def test_plain_text_is_not_an_image():
    assert rejected("巡查 notes: corridor light broken on 7F\n".encode() * 50).code == "not_an_image"


def test_empty_upload_is_not_an_image():
    assert rejected(b"").code == "not_an_image"


def test_html_named_jpg_is_not_an_image():
    html = b"<!DOCTYPE html><html><head><title>photo.jpg</title></head><body><script>alert(1)</script></body></html>"
    assert rejected(html).code == "not_an_image"


def test_svg_named_jpg_is_not_an_image():
    svg = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">'
        b'<rect width="100" height="100" fill="red"/><script>alert(1)</script></svg>'
    )
    assert rejected(svg).code == "not_an_image"


def test_gif_is_unsupported():
    assert rejected(encode(quadrants((64, 48)), "GIF")).code == "unsupported_format"


def test_bmp_is_unsupported():
    assert rejected(encode(quadrants((64, 48)), "BMP")).code == "unsupported_format"


def test_tiff_is_unsupported():
    assert rejected(encode(quadrants((64, 48)), "TIFF")).code == "unsupported_format"


def test_heic_is_unsupported():
    # the start of an iPhone HEIC file: an ISO-BMFF 'ftyp' box with the 'heic' brand
    heic = struct.pack(">I", 24) + b"ftypheic" + b"\x00\x00\x00\x00" + b"mif1heic" + b"\x00" * 200
    assert rejected(heic).code == "unsupported_format"


def test_truncated_jpeg_is_damaged():
    data = noise_jpeg()
    assert process(data).width == 800  # whole, it is fine
    assert rejected(data[: len(data) // 2]).code == "damaged"
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_truncated_camera_jpeg_is_damaged_when_drafted():
    data = camera_jpeg((4000, 3000), 1, quality=80)
    assert rejected(data[: len(data) // 2]).code == "damaged"


def test_jpeg_with_a_broken_header_is_damaged():
    assert rejected(b"\xff\xd8\xff\xe0" + b"\x13" * 500).code == "damaged"


def test_truncated_png_is_damaged():
    data = encode(Image.effect_noise((400, 300), 60), "PNG")
    assert rejected(data[: len(data) // 2]).code == "damaged"


def test_truncated_webp_is_damaged():
    data = encode(Image.effect_noise((400, 300), 60).convert("RGB"), "WEBP")
    assert rejected(data[: len(data) // 2]).code == "damaged"


def test_png_pixel_bomb_is_refused_from_the_header(monkeypatch):
    """20000x20000 (400 Mpx): beyond even Pillow's DecompressionBombError; never decoded."""
    data = png_header_only(20000, 20000)
    assert len(data) < 200

    def no_decoding(self, *a, **kw):
        raise AssertionError("the bomb was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert rejected(data).code == "too_many_pixels"
    assert caught == []


@pytest.mark.parametrize(
    "side",
    [
        10_000,  # 100 Mpx: Pillow would warn (DecompressionBombWarning); no warning may escape
        8_000,  # 64 Mpx: below Pillow's limits, above ours
    ],
)
def test_png_over_max_pixels_is_refused_without_warnings(side, monkeypatch):
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda *a, **kw: pytest.fail("decoded"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert rejected(png_header_only(side, side)).code == "too_many_pixels"
    assert caught == []


def test_max_pixels_is_the_limit_exactly():
    data = encode(quadrants((400, 300)), "PNG")
    assert process(data, max_pixels=400 * 300).width == 400
    assert rejected(data, max_pixels=400 * 300 - 1).code == "too_many_pixels"


def test_jpeg_claiming_huge_dimensions_is_refused():
    assert rejected(jpeg_claiming(30_000, 30_000)).code == "too_many_pixels"
    assert rejected(jpeg_claiming(9_000, 9_000)).code == "too_many_pixels"


def test_file_over_max_bytes_is_too_large_before_decoding(monkeypatch):
    data = camera_jpeg()
    monkeypatch.setattr(Image, "open", lambda *a, **kw: pytest.fail("opened"))
    assert rejected(data, max_bytes=len(data) - 1).code == "too_large"
    assert rejected(b"x" * 2000, max_bytes=1000).code == "too_large"


def test_file_of_exactly_max_bytes_is_fine():
    data = camera_jpeg()
    assert process(data, max_bytes=len(data)).width == 400


# --- the exception ---------------------------------------------------------------------------


def test_every_refusal_has_a_readable_message(app):
    samples = {
        "too_large": (camera_jpeg(), {"max_bytes": 100}),
        "not_an_image": (b"hello", {}),
        "unsupported_format": (encode(quadrants((8, 8)), "GIF"), {}),
        "too_many_pixels": (png_header_only(20000, 20000), {}),
        "damaged": (noise_jpeg()[:3000], {}),
    }
    assert set(samples) == pipeline.CODES
    with app.test_request_context():
        for code, (data, kw) in samples.items():
            exc = rejected(data, **kw)
            assert exc.code == code
            text = str(exc.message)
            assert text.strip(), code
            assert "%(" not in text, code
    with app.test_request_context(), force_locale("en"):
        assert "20 MB" in str(rejected(b"x" * (MAX_BYTES + 1), max_bytes=MAX_BYTES).message)
        assert "1.5 MB" in str(rejected(b"x" * 2_000_000, max_bytes=1024 * 1024 * 3 // 2).message)
        assert "40 megapixels" in str(rejected(png_header_only(9000, 9000)).message)


def test_str_of_the_exception_needs_no_request_context():
    exc = rejected(b"hello")
    assert str(exc) == "not_an_image"
    assert exc.args == ("not_an_image",)


def test_unknown_codes_are_a_programming_error():
    with pytest.raises(ValueError):
        PhotoRejected("too_ugly", "no")
