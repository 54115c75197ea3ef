"""parse_image on images written here with Pillow / pillow_heif (or by hand, for bombs)."""

from __future__ import annotations

import json
import random
import struct
import zlib
from pathlib import Path

import pillow_heif
import pytest
from PIL import Image, PngImagePlugin
from PIL.TiffImagePlugin import IFDRational

from common.catalogue import PARSER_FLAGS
from extractor.formats import Limits, ParseError
from extractor.formats.images import parse_image

XMP = """<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
   <dc:title><rdf:Alt>
    <rdf:li xml:lang="de">Jahresbericht</rdf:li>
    <rdf:li xml:lang="x-default">Annual report</rdf:li>
   </rdf:Alt></dc:title>
   <dc:creator><rdf:Seq><rdf:li>Ada Lovelace</rdf:li><rdf:li>Charles Babbage</rdf:li></rdf:Seq></dc:creator>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""

ENTITY_XMP = """<?xml version="1.0"?>
<!DOCTYPE lol [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:title="&b;"/></rdf:RDF></x:xmpmeta>"""


def _exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "Canon"  # Make
    exif[0x0110] = "EOS R5"  # Model
    exif[0x0112] = 6  # Orientation
    exif[0x010E] = "Site visit"  # ImageDescription
    exif[0x013B] = "Grace Hopper"  # Artist
    exif.get_ifd(0x8769)[0x9003] = "2026:01:02 03:04:05"  # DateTimeOriginal
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (IFDRational(52, 1), IFDRational(30, 1), IFDRational(3645, 100))  # 52°30'36.45"
    gps[3] = "W"
    gps[4] = (IFDRational(1, 1), IFDRational(15, 1), IFDRational(0, 1))
    return exif


def _noise(width: int = 160, height: int = 120) -> Image.Image:
    """An image that compresses badly, so its picture data is most of its file."""
    return Image.frombytes("RGB", (width, height), random.Random(7).randbytes(width * height * 3))


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _assert_json(metadata: object) -> None:
    assert json.loads(json.dumps(metadata)) == metadata


def test_jpeg_exif_camera_time_orientation_gps_title_author(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    Image.new("RGB", (64, 48), "red").save(path, exif=_exif(), dpi=(300, 300))
    parsed = parse_image(path, Limits())
    assert parsed.metadata == {
        "width": 64, "height": 48, "mode": "RGB", "dpi": [300.0, 300.0], "frames": 1,
        "camera_make": "Canon", "camera_model": "EOS R5", "taken_at": "2026-01-02T03:04:05",
        "orientation": 6, "gps_latitude": 52.510125, "gps_longitude": -1.25,
        "title": "Site visit", "author": "Grace Hopper",
    }
    assert parsed.flags == {"gps"}
    assert parsed.flags <= PARSER_FLAGS
    _assert_json(parsed.metadata)


def test_jpeg_without_metadata_reports_only_header_fields(tmp_path: Path) -> None:
    path = tmp_path / "plain.jpg"
    Image.new("L", (10, 20)).save(path)
    parsed = parse_image(path, Limits())
    assert parsed.metadata == {"width": 10, "height": 20, "mode": "L", "frames": 1}
    assert parsed.flags == frozenset()


def test_southern_eastern_gps_is_positive_east_negative_south(tmp_path: Path) -> None:
    exif = Image.Exif()
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "S", (IFDRational(33, 1), IFDRational(52, 1), IFDRational(0, 1))
    gps[3], gps[4] = "E", (IFDRational(151, 1), IFDRational(12, 1), IFDRational(36, 1))
    path = tmp_path / "sydney.jpg"
    Image.new("RGB", (8, 8)).save(path, exif=exif)
    parsed = parse_image(path, Limits())
    assert (parsed.metadata["gps_latitude"], parsed.metadata["gps_longitude"]) == (-33.866667, 151.21)
    assert parsed.flags == {"gps"}


def test_gps_with_zero_denominator_is_omitted_without_flag(tmp_path: Path) -> None:
    exif = Image.Exif()
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (IFDRational(1, 0), IFDRational(0, 1), IFDRational(0, 1))
    gps[3], gps[4] = "E", (IFDRational(1, 1), IFDRational(0, 1), IFDRational(0, 1))
    path = tmp_path / "nogps.jpg"
    Image.new("RGB", (8, 8)).save(path, exif=exif)
    parsed = parse_image(path, Limits())
    assert "gps_latitude" not in parsed.metadata
    assert "gps_longitude" not in parsed.metadata
    assert parsed.flags == frozenset()


def test_jpeg_xmp_title_and_creators_win_over_exif(tmp_path: Path) -> None:
    path = tmp_path / "xmp.jpg"
    Image.new("RGB", (8, 8)).save(path, exif=_exif(), xmp=XMP.encode())
    parsed = parse_image(path, Limits())
    assert parsed.metadata["title"] == "Annual report"
    assert parsed.metadata["author"] == "Ada Lovelace; Charles Babbage"


def test_xmp_with_entities_is_ignored_not_expanded(tmp_path: Path) -> None:
    path = tmp_path / "entities.jpg"
    Image.new("RGB", (8, 8)).save(path, xmp=ENTITY_XMP.encode())
    parsed = parse_image(path, Limits())
    assert parsed.metadata == {"width": 8, "height": 8, "mode": "RGB", "frames": 1}


def test_png_text_chunks_dpi_and_xmp_itxt(tmp_path: Path) -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Title", "Floor plan")
    info.add_itxt("Author", "Zoë Müller")
    path = tmp_path / "plan.png"
    Image.new("RGBA", (30, 20)).save(path, pnginfo=info, dpi=(254, 254))
    parsed = parse_image(path, Limits())
    assert parsed.metadata == {"width": 30, "height": 20, "mode": "RGBA", "dpi": [254.0, 254.0],
                               "frames": 1, "title": "Floor plan", "author": "Zoë Müller"}

    info.add_itxt("XML:com.adobe.xmp", XMP)
    with_xmp = tmp_path / "plan-xmp.png"
    Image.new("RGBA", (30, 20)).save(with_xmp, pnginfo=info)
    parsed = parse_image(with_xmp, Limits())
    assert (parsed.metadata["title"], parsed.metadata["author"]) == (
        "Annual report", "Ada Lovelace; Charles Babbage")


def test_animated_gif_counts_frames(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (12, 10), color) for color in ("red", "green", "blue", "white")]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    parsed = parse_image(path, Limits())
    assert parsed.metadata == {"width": 12, "height": 10, "mode": "P", "frames": 4}


def test_multipage_tiff_counts_pages_and_reads_dpi(tmp_path: Path) -> None:
    pages = [Image.new("L", (40, 30), shade) for shade in (0, 128, 255)]
    path = tmp_path / "scan.tif"
    pages[0].save(path, save_all=True, append_images=pages[1:], dpi=(200, 100))
    parsed = parse_image(path, Limits())
    assert parsed.metadata == {"width": 40, "height": 30, "mode": "L", "dpi": [200.0, 100.0], "frames": 3}


def test_tiff_without_resolution_has_no_dpi(tmp_path: Path) -> None:
    path = tmp_path / "nores.tif"
    Image.new("RGB", (4, 4)).save(path)
    assert "dpi" not in parse_image(path, Limits()).metadata


def test_webp_with_exif_and_xmp(tmp_path: Path) -> None:
    path = tmp_path / "photo.webp"
    Image.new("RGB", (50, 40), "blue").save(path, exif=_exif().tobytes(), xmp=XMP.encode())
    parsed = parse_image(path, Limits())
    assert parsed.metadata == {
        "width": 50, "height": 40, "mode": "RGB", "frames": 1,
        "camera_make": "Canon", "camera_model": "EOS R5", "taken_at": "2026-01-02T03:04:05",
        "orientation": 6, "gps_latitude": 52.510125, "gps_longitude": -1.25,
        "title": "Annual report", "author": "Ada Lovelace; Charles Babbage",
    }
    assert parsed.flags == {"gps"}


def test_animated_webp_counts_frames(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (16, 16), color) for color in ("red", "green", "blue")]
    path = tmp_path / "anim.webp"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100)
    assert parse_image(path, Limits()).metadata["frames"] == 3


def test_bmp_header_fields(tmp_path: Path) -> None:
    path = tmp_path / "logo.bmp"
    Image.new("RGB", (7, 5)).save(path, dpi=(254, 254))
    assert parse_image(path, Limits()).metadata == {
        "width": 7, "height": 5, "mode": "RGB", "dpi": [254.0, 254.0], "frames": 1}


def test_heic_with_exif(tmp_path: Path) -> None:
    if not pillow_heif.libheif_info().get("HEIF"):
        pytest.skip("this pillow_heif build has no HEVC encoder, so no HEIC can be written")
    pillow_heif.register_heif_opener()
    exif = _exif()
    exif[0x0112] = 1  # pillow_heif applies orientation to the pixels, so keep it upright
    path = tmp_path / "photo.heic"
    Image.new("RGB", (64, 48), "green").save(path, format="HEIF", exif=exif.tobytes(), quality=30)
    parsed = parse_image(path, Limits())
    assert parsed.metadata == {
        "width": 64, "height": 48, "mode": "RGB", "frames": 1,
        "camera_make": "Canon", "camera_model": "EOS R5", "taken_at": "2026-01-02T03:04:05",
        "orientation": 1, "gps_latitude": 52.510125, "gps_longitude": -1.25,
        "title": "Site visit", "author": "Grace Hopper",
    }
    assert parsed.flags == {"gps"}


def test_png_bomb_is_refused_with_declared_size(tmp_path: Path) -> None:
    png = (b"\x89PNG\r\n\x1a\n"
           + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 50_000, 50_000, 8, 2, 0, 0, 0))
           + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
           + _png_chunk(b"IEND", b""))
    path = tmp_path / "bomb.png"
    path.write_bytes(png)
    previous = Image.MAX_IMAGE_PIXELS
    with pytest.raises(ParseError) as raised:
        parse_image(path, Limits())
    assert raised.value.reason == "image is too large to decode safely (possible decompression bomb)"
    assert raised.value.metadata == {"width": 50_000, "height": 50_000}
    assert previous == Image.MAX_IMAGE_PIXELS  # the global limit is restored


def test_limit_is_taken_from_limits_including_the_warning_band(tmp_path: Path) -> None:
    path = tmp_path / "small.png"
    Image.new("RGB", (100, 100)).save(path)
    assert parse_image(path, Limits(max_image_pixels=10_000)).metadata["width"] == 100
    for limit in (9_999, 100):  # just over the limit (Pillow warns) and far over it (Pillow errors)
        with pytest.raises(ParseError) as raised:
            parse_image(path, Limits(max_image_pixels=limit))
        assert raised.value.metadata == {"width": 100, "height": 100}


def test_webp_bomb_is_refused_before_its_decoder_allocates(tmp_path: Path) -> None:
    # A VP8X header declaring a 16384 x 16384 canvas, and nothing else.
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00" + (16383).to_bytes(3, "little") * 2
    path = tmp_path / "bomb.webp"
    path.write_bytes(b"RIFF" + struct.pack("<I", 4 + len(vp8x)) + b"WEBP" + vp8x)
    with pytest.raises(ParseError) as raised:
        parse_image(path, Limits())
    assert raised.value.metadata == {"width": 16384, "height": 16384}


def test_jpeg_cut_short_in_picture_data_is_damaged_with_header_fields(tmp_path: Path) -> None:
    path = tmp_path / "cut.jpg"
    _noise().save(path, exif=_exif(), quality=90)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ParseError) as raised:
        parse_image(path, Limits())
    assert raised.value.reason.startswith("damaged image: ")
    assert raised.value.metadata["width"] == 160
    assert raised.value.metadata["camera_make"] == "Canon"
    assert raised.value.flags == {"gps"}


def test_jpeg_cut_short_in_its_header_is_damaged(tmp_path: Path) -> None:
    path = tmp_path / "stub.jpg"
    _noise().save(path, exif=_exif())
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(ParseError, match=r"^damaged image: "):
        parse_image(path, Limits())


def test_png_and_tiff_cut_short_are_damaged(tmp_path: Path) -> None:
    for name in ("cut.png", "cut.tif"):
        path = tmp_path / name
        _noise().save(path)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
        with pytest.raises(ParseError, match=r"^damaged image: ") as raised:
            parse_image(path, Limits())
        assert raised.value.metadata["height"] == 120


def test_not_an_image_is_damaged(tmp_path: Path) -> None:
    path = tmp_path / "fake.png"
    path.write_bytes(b"this is not a picture\n" * 20)
    with pytest.raises(ParseError, match=r"^damaged image: the file is not a readable"):
        parse_image(path, Limits())


def test_formats_outside_the_list_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "icon.ico"
    Image.new("RGB", (16, 16)).save(path)
    with pytest.raises(ParseError, match=r"^damaged image: "):
        parse_image(path, Limits())
