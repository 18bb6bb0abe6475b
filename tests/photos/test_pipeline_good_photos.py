"""The photo pipeline (app/photos/pipeline.py) on good photos made here with Pillow: upright, stripped
of metadata, sized for display and thumbnail, colours kept in sRGB, a phone's JPEG kept as sent, the
capture time read from EXIF."""
from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime, timedelta

import pytest
from PIL import ExifTags, Image, ImageCms, PngImagePlugin

from app.photos import pipeline
from app.photos.pipeline import DISPLAY_EDGE

from tests.photos.pipeline_helpers import (
    COMMENT,
    RED,
    WHITE,
    XMP,
    assert_colour,
    assert_no_metadata,
    assert_sizes,
    assert_upright,
    camera_jpeg,
    encode,
    make_exif,
    process,
    quadrants,
    rejected,
    reopen,
    srgb_icc,
    stored_as,
)


# --- good photos -----------------------------------------------------------------------------


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_jpeg_comes_out_upright_for_each_orientation(orientation):
    result = process(camera_jpeg((400, 300), orientation))
    assert result.source_format == "JPEG"
    assert_sizes(result, (400, 300))
    assert_upright(reopen(result.display))
    assert_upright(reopen(result.thumbnail))


def test_jpeg_outputs_carry_no_metadata():
    data = camera_jpeg((400, 300), 6)
    source = Image.open(io.BytesIO(data))  # the input really has it all
    assert {"exif", "xmp", "comment", "icc_profile"} <= set(source.info)
    assert source.getexif().get_ifd(ExifTags.IFD.GPSInfo)

    result = process(data)
    assert_no_metadata(result.display)
    assert_no_metadata(result.thumbnail)


def test_camera_size_jpeg_is_decoded_at_half_size():
    """4000x3000 drafts to 1/2: 2000x1500, within 10% of DISPLAY_EDGE, so no further resize."""
    result = process(camera_jpeg((4000, 3000), 1, quality=80))
    assert_sizes(result, (2000, 1500))
    assert_upright(reopen(result.display))


def test_camera_size_jpeg_turned_by_exif_swaps_width_and_height():
    # the camera stores 4000x3000 landscape pixels with orientation 6: upright it is 3000x4000
    result = process(camera_jpeg((3000, 4000), 6, quality=80))
    assert_sizes(result, (1500, 2000))
    assert_upright(reopen(result.display))
    assert_upright(reopen(result.thumbnail))


def test_large_jpeg_is_resized_to_the_display_edge():
    result = process(camera_jpeg((6000, 4000), 1, quality=75))
    assert_sizes(result, (DISPLAY_EDGE, 1365))
    assert_upright(reopen(result.display))


def test_small_jpeg_keeps_its_size():
    result = process(camera_jpeg((1200, 900), 1))
    assert_sizes(result, (1200, 900))


def phone_jpeg(size=(2048, 1536), **kw) -> bytes:
    """What the phone's canvas writes: a JFIF header, tables and pixels, nothing else."""
    return encode(quadrants(size), "JPEG", quality=80, **kw)


@pytest.mark.parametrize("kw", [{}, {"progressive": True}, {"subsampling": 0}])
def test_a_jpeg_the_phone_made_is_kept_byte_for_byte(kw):
    data = phone_jpeg(**kw)
    assert pipeline._plain_jpeg(data).size == (2048, 1536)
    result = process(data)
    assert result.display == data  # nothing to clean and no larger than the display: not re-encoded
    assert_sizes(result, (2048, 1536))
    assert_no_metadata(result.display)
    assert_no_metadata(result.thumbnail)
    assert_colour(reopen(result.thumbnail), (0.25, 0.25), RED)
    assert result.sha256 == hashlib.sha256(data).hexdigest() and result.source_format == "JPEG"


def test_a_greyscale_jpeg_the_phone_made_is_kept():
    data = encode(quadrants((640, 480)).convert("L"), "JPEG", quality=80)
    result = process(data)
    assert result.display == data and reopen(result.thumbnail).size == (320, 240)


def test_a_browser_jpeg_tagged_srgb_is_kept_without_its_profile():
    """Chromium's canvas writes an sRGB profile (APP2): cut out, the pixels stay as sent."""
    data = phone_jpeg((1024, 768), icc_profile=srgb_icc())
    plain = pipeline._plain_jpeg(data)
    assert plain.profile_span and plain.icc == srgb_icc()
    result = process(data)
    assert result.display == data[:plain.profile_span[0]] + data[plain.profile_span[1]:]
    assert_no_metadata(result.display)
    assert reopen(result.display).tobytes() == reopen(data).tobytes()


@pytest.mark.parametrize("what", ["exif", "comment", "unreadable profile", "bytes after the end", "too large",
                                  "jfif thumbnail"])
def test_anything_besides_pixels_takes_the_full_path(what):
    """Metadata, a trailer after the picture or a size above the display edge: decoded and
    written afresh, so nothing of it reaches the stored files."""
    extra = {"exif": {"exif": make_exif(1).tobytes()}, "comment": {"comment": COMMENT},
             "unreadable profile": {"icc_profile": b"not a profile" * 20}}.get(what, {})
    data = phone_jpeg((3000, 2000) if what == "too large" else (1024, 768), **extra)
    if what == "bytes after the end":
        data += b"PK\x03\x04 Block 7 flat 1203"
    if what == "jfif thumbnail":  # an APP0 that carries a 1x1 thumbnail (16 + 3 bytes)
        assert data[2:4] == b"\xff\xe0" and data[4:6] == b"\x00\x10"
        data = data[:4] + b"\x00\x13" + data[6:18] + b"\x01\x01" + b"\x00\x00\x00" + data[20:]
    assert pipeline._plain_jpeg(data) is None or what in ("too large", "unreadable profile")
    result = process(data)
    assert result.display != data
    assert_no_metadata(result.display)
    assert b"Block 7" not in result.display


@pytest.mark.parametrize("cut", [0.5, 0.9, 0.999])
def test_a_plain_jpeg_cut_short_is_damaged(cut):
    data = encode(Image.effect_noise((1600, 1200), 60).convert("RGB"), "JPEG", quality=85)
    assert process(data).display == data
    assert rejected(data[: int(len(data) * cut)]).code == "damaged"


def test_a_plain_jpeg_with_a_broken_frame_is_damaged():
    data = bytearray(phone_jpeg((800, 600)))
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = b"\x00\x00\x00\x00"  # height and width 0
    assert rejected(bytes(data)).code in ("damaged", "too_many_pixels")


def test_draft_scale_stays_within_ten_percent_of_the_display_edge():
    assert pipeline._draft_scale(4000) == 2  # 2000
    assert pipeline._draft_scale(6000) == 2  # 3000, then resized
    assert pipeline._draft_scale(8000) == 4  # 2000
    assert pipeline._draft_scale(8192) == 4  # 2048
    assert pipeline._draft_scale(16000) == 8  # 2000
    assert pipeline._draft_scale(3600) == 1  # 1800 would be more than 10% under 2048
    assert pipeline._draft_scale(2100) == 1
    assert pipeline._draft_scale(1200) == 1
    assert pipeline._draft_scale(1) == 1


def test_jpeg_with_several_pictures_mpo_counts_as_jpeg():
    upright = quadrants((400, 300))
    data = encode(upright, "MPO", save_all=True, append_images=[upright.transpose(Image.Transpose.ROTATE_180)])
    assert Image.open(io.BytesIO(data)).format == "MPO"
    result = process(data)
    assert result.source_format == "JPEG"
    assert_upright(reopen(result.display))


def test_greyscale_and_cmyk_jpegs_come_out_rgb():
    grey = process(encode(Image.new("L", (200, 100), 128), "JPEG"))
    assert_colour(reopen(grey.display), (0.5, 0.5), (128, 128, 128), tol=4)
    cmyk = process(encode(quadrants((200, 100)).convert("CMYK"), "JPEG"))
    assert reopen(cmyk.display).mode == "RGB"
    assert_upright(reopen(cmyk.display))


def test_png_with_transparency_is_flattened_onto_white_and_loses_its_text():
    im = quadrants((400, 300)).convert("RGBA")
    im.paste((0, 0, 0, 0), (0, 0, 100, 75))  # a fully transparent corner inside the red quadrant
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "Block 7 flat 1203")
    text.add_itxt("Description", "Secret Model 9", lang="en")
    text.add_text("XML:com.adobe.xmp", XMP.decode())
    data = encode(im, "PNG", pnginfo=text, exif=make_exif(1).tobytes())
    assert "Comment" in Image.open(io.BytesIO(data)).info

    result = process(data)
    assert result.source_format == "PNG"
    assert_sizes(result, (400, 300))
    shown = reopen(result.display)
    assert_colour(shown, (0.1, 0.1), WHITE, tol=8)  # the transparent corner
    assert_colour(shown, (0.4, 0.4), RED)  # the rest of the red quadrant
    assert_upright(shown)
    assert_no_metadata(result.display)
    assert_no_metadata(result.thumbnail)


def test_palette_png_with_transparent_index_is_flattened_onto_white():
    im = Image.new("P", (200, 100), 0)
    im.putpalette([0, 0, 0, 255, 0, 0] + [0] * (254 * 3))
    im.paste(1, (100, 0, 200, 100))
    data = encode(im, "PNG", transparency=0)
    shown = reopen(process(data).display)
    assert_colour(shown, (0.25, 0.5), WHITE, tol=8)
    assert_colour(shown, (0.75, 0.5), RED)


def test_png_exif_orientation_is_applied():
    data = encode(stored_as(quadrants((400, 300)), 8), "PNG", exif=make_exif(8).tobytes())
    result = process(data)
    assert_sizes(result, (400, 300))
    assert_upright(reopen(result.display))


def test_sixteen_bit_greyscale_png_keeps_its_tones():
    im = Image.new("I", (200, 100), 10000)
    im.paste(60000, (100, 0, 200, 100))
    im = im.convert("I;16")
    assert Image.open(io.BytesIO(encode(im, "PNG"))).mode == "I;16"
    shown = reopen(process(encode(im, "PNG")).display)
    assert_colour(shown, (0.25, 0.5), (39, 39, 39), tol=3)  # 10000 / 256
    assert_colour(shown, (0.75, 0.5), (234, 234, 234), tol=3)  # 60000 / 256


def test_webp_with_orientation_and_metadata():
    data = encode(
        stored_as(quadrants((400, 300)), 3),
        "WEBP",
        quality=95,
        exif=make_exif(3).tobytes(),
        xmp=XMP,
        icc_profile=srgb_icc(),
    )
    result = process(data)
    assert result.source_format == "WEBP"
    assert_sizes(result, (400, 300))
    assert_upright(reopen(result.display))
    assert_no_metadata(result.display)
    assert_no_metadata(result.thumbnail)
    assert result.captured_at == datetime(2024, 5, 1, 1, 30, tzinfo=UTC)


def test_webp_with_alpha_is_flattened_onto_white():
    im = Image.new("RGBA", (200, 100), (255, 0, 0, 255))
    im.paste((0, 0, 0, 0), (0, 0, 100, 100))
    shown = reopen(process(encode(im, "WEBP", lossless=True)).display)
    assert_colour(shown, (0.25, 0.5), WHITE, tol=8)
    assert_colour(shown, (0.75, 0.5), RED)


def test_sha256_is_of_the_bytes_as_received():
    data = camera_jpeg()
    assert process(data).sha256 == hashlib.sha256(data).hexdigest()


def test_an_unreadable_colour_profile_is_ignored_and_dropped():
    data = encode(quadrants((200, 100)), "JPEG", icc_profile=b"not a profile" * 20)
    result = process(data)
    assert_upright(reopen(result.display))
    assert_no_metadata(result.display)


def test_an_srgb_profile_needs_no_conversion(monkeypatch):
    monkeypatch.setattr(ImageCms, "profileToProfile", lambda *a, **kw: pytest.fail("converted"))
    result = process(encode(quadrants((200, 100)), "JPEG", icc_profile=srgb_icc()))
    assert_upright(reopen(result.display))


def test_another_rgb_profile_is_converted_to_srgb_before_it_is_dropped(monkeypatch):
    """A Display P3 photo would be converted; Pillow cannot make a P3 profile, so the sRGB one
    stands in for it here (converting sRGB to sRGB must keep the colours)."""
    calls = []
    real = ImageCms.profileToProfile
    monkeypatch.setattr(pipeline, "_needs_conversion", lambda profile: True)
    monkeypatch.setattr(ImageCms, "profileToProfile", lambda *a, **kw: (calls.append(1), real(*a, **kw))[1])
    result = process(encode(quadrants((200, 100)), "JPEG", quality=95, icc_profile=srgb_icc()))
    assert calls == [1]
    assert_upright(reopen(result.display))
    assert_no_metadata(result.display)


def test_an_srgb_profile_keeps_the_colours():
    plain = reopen(process(encode(quadrants((200, 100)), "JPEG", quality=95)).display)
    profiled = reopen(process(encode(quadrants((200, 100)), "JPEG", quality=95, icc_profile=srgb_icc())).display)
    for xy in ((0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)):
        assert_colour(profiled, xy, plain.getpixel((int(xy[0] * 200), int(xy[1] * 100))), tol=6)


# --- capture time ----------------------------------------------------------------------------


def captured(exif: Image.Exif, **kw) -> datetime | None:
    return process(camera_jpeg((64, 48), None, exif=exif), **kw).captured_at


def test_captured_at_uses_offset_time_original():
    got = captured(make_exif(taken="2024:05:01 09:30:00", offset="+08:00"))
    assert got == datetime(2024, 5, 1, 1, 30, tzinfo=UTC)
    assert got.tzinfo is UTC


def test_captured_at_offset_wins_over_the_camera_timezone():
    got = captured(make_exif(taken="2024:05:01 09:30:00", offset="-05:00"), camera_timezone="Asia/Shanghai")
    assert got == datetime(2024, 5, 1, 14, 30, tzinfo=UTC)


def test_captured_at_without_offset_is_read_in_the_camera_timezone():
    exif = make_exif(taken="2024:05:01 09:30:00")
    assert captured(exif) == datetime(2024, 5, 1, 1, 30, tzinfo=UTC)  # Asia/Shanghai, +08:00
    assert captured(exif, camera_timezone="Europe/London") == datetime(2024, 5, 1, 8, 30, tzinfo=UTC)
    assert captured(exif, camera_timezone="UTC") == datetime(2024, 5, 1, 9, 30, tzinfo=UTC)


def test_captured_at_keeps_subseconds():
    got = captured(make_exif(taken="2024:05:01 09:30:00", offset="+08:00", subsec="25"))
    assert got == datetime(2024, 5, 1, 1, 30, 0, 250000, tzinfo=UTC)


@pytest.mark.parametrize("taken", [None, "0000:00:00 00:00:00", "    :  :     :  :  ", "yesterday"])
def test_captured_at_is_none_without_a_usable_date(taken):
    assert captured(make_exif(taken=taken)) is None


def test_captured_at_is_none_without_exif():
    assert process(encode(quadrants((64, 48)), "JPEG")).captured_at is None
    assert process(encode(quadrants((64, 48)), "PNG")).captured_at is None


def test_captured_at_is_aware_utc_and_plausible():
    got = captured(make_exif(taken="2023:12:31 23:59:59", offset="+08:00"))
    assert got.utcoffset() == timedelta(0)
    assert got == datetime(2023, 12, 31, 15, 59, 59, tzinfo=UTC)
