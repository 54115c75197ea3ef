"""Worst-case images, audio and video for :mod:`bench.worstcase`.

Each is built byte by byte from its format's specification, because no
writing library makes such files: thousands of frames, pages, chunks, boxes
or metadata blocks, metadata that points at itself, tags by the hundred
thousand.
"""

from __future__ import annotations

import io
import struct
import zlib


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(*chunks: bytes) -> bytes:
    header = _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    tail = _png_chunk(b"IDAT", zlib.compress(b"\x00\x00")) + _png_chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + header + b"".join(chunks) + tail


def png_text() -> bytes:
    """238,000 short text chunks before the picture."""
    return _png(*(_png_chunk(b"tEXt", b"Comment\x00%d" % (i % 10)) for i in range(238_000)))


def png_ztxt() -> bytes:
    """60 compressed text chunks of 1 MB each: 60 MB of text, just under Pillow's 64 MB cap."""
    chunk = _png_chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"lorem ipsum " * 87_000, 9))
    return _png(*([chunk] * 60))


def png_chunks() -> bytes:
    """400,000 empty private chunks, which every reader must skip one by one."""
    return _png(*([_png_chunk(b"prVt", b"")] * 400_000))


def _jpeg(*segments: bytes) -> bytes:
    """A 1x1 JPEG with ``segments`` right after its start marker."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("L", (1, 1), 128).save(out, format="JPEG", quality=50)
    data = out.getvalue()
    return data[:2] + b"".join(segments) + data[2:]


def _segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def _exif_block() -> bytes:
    """64 KB of EXIF: 5,400 entries that each declare the whole block as their value.

    The first IFD is also its own EXIF and GPS sub-IFD and its own successor, so a reader
    that follows offsets without remembering where it has been never stops.
    """
    n = 5_400
    size = 8 + 2 + (n + 4) * 12 + 4 + 16
    entries = [struct.pack(">HHII", 0x010F, 2, 8, size - 16), struct.pack(">HHII", 0x0110, 2, 8, size - 8)]
    entries += [struct.pack(">HHII", 0x1000 + i, 3 if i % 2 else 7, (size - 8) // (2 if i % 2 else 1), 0)
                for i in range(n)]
    entries += [struct.pack(">HHII", 0x8769, 4, 1, 8), struct.pack(">HHII", 0x8825, 4, 1, 8)]
    ifd = struct.pack(">H", len(entries)) + b"".join(entries) + struct.pack(">I", 8)
    return b"MM\x00\x2a" + struct.pack(">I", 8) + ifd + b"DocCam\x00\x00Model 7\x00"


def jpeg_exif() -> bytes:
    """A photo whose 64 KB EXIF block is all entries, overlapping values and looping offsets."""
    return _jpeg(_segment(0xE1, b"Exif\x00\x00" + _exif_block()))


def jpeg_segments() -> bytes:
    """1,240,000 empty application segments before the frame header."""
    return _jpeg(*(_segment(0xE2 + i % 14, b"") for i in range(1_240_000)))


def jpeg_xmp() -> bytes:
    """76 XMP segments of 64 KB, each a packet of 3,000 properties without a title or creator."""
    props = "".join(f'<rdf:Description xmlns:ns="urn:x" ns:p{i}="{i}"/>' for i in range(1_500))
    packet = (b"http://ns.adobe.com/xap/1.0/\x00" + b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
              b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">' + props.encode()
              + b"</rdf:RDF></x:xmpmeta>")[:65_000]
    packet = packet[:packet.rfind(b"<rdf:Desc")] + b"</rdf:RDF></x:xmpmeta>"
    return _jpeg(*([_segment(0xE1, packet)] * 76))


def _ifd(entries: list[tuple[int, int, int, int]], next_ifd: int) -> bytes:
    """A little-endian TIFF IFD; each entry's value fits in its four bytes or is an offset."""
    return struct.pack("<H", len(entries)) + b"".join(
        struct.pack("<HHII", tag, kind, count, value) for tag, kind, count, value in entries) \
        + struct.pack("<I", next_ifd)


def _page(pixel_at: int) -> list[tuple[int, int, int, int]]:
    """The tags of a 1x1 grey page whose pixel is at ``pixel_at``."""
    return [(256, 3, 1, 1), (257, 3, 1, 1), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
            (273, 4, 1, pixel_at), (277, 3, 1, 1), (278, 3, 1, 1), (279, 4, 1, 1)]


def tiff_pages() -> bytes:
    """A fax-like TIFF of 43,000 one-pixel pages, the last pointing back to the first."""
    n, size = 43_000, 2 + 9 * 12 + 4
    at = [9 + i * size for i in range(n)]
    pages = b"".join(_ifd(_page(8), at[i + 1] if i + 1 < n else at[0]) for i in range(n))
    return b"II*\x00" + struct.pack("<I", 9) + b"\x80" + pages


def tiff_tags() -> bytes:
    """One page with 60,000 tags, each a small number."""
    page = {tag: (tag, kind, count, value) for tag, kind, count, value in _page(8)}
    pointers = {0x8769, 0x8825, 0xA005, 0xBC01}  # sub-IFDs, and the tag of a Windows Media Photo
    for tag in range(1_000, 61_004):
        if tag not in pointers:
            page[tag] = (tag, 3, 1, tag % 7)
    return b"II*\x00" + struct.pack("<I", 9) + b"\x80" + _ifd(sorted(page.values()), 0)


def tiff_xmp() -> bytes:
    """A page whose XMP (tag 700) is 4 MB of 85,000 properties, none a title or creator."""
    props = "".join(f'<rdf:Description xmlns:ns="urn:x" ns:p="{i}"/>' for i in range(85_000))
    xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           + props.encode() + b"</rdf:RDF></x:xmpmeta>")
    entries = [*_page(8), (700, 1, len(xmp), 9 + 2 + 10 * 12 + 4)]
    return b"II*\x00" + struct.pack("<I", 9) + b"\x80" + _ifd(sorted(entries), 0) + xmp


def gif_frames() -> bytes:
    """An animation of 217,000 one-pixel frames."""
    frame = (b"\x21\xf9\x04\x00\x0a\x00\x00\x00" + b"\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00"
             + b"\x02\x02\x44\x01\x00")
    loop = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    return b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff" + loop + frame * 217_000 + b"\x3b"


def _riff_chunk(kind: bytes, data: bytes) -> bytes:
    return kind + struct.pack("<I", len(data)) + data + b"\x00" * (len(data) % 2)


def webp_frames() -> bytes:
    """An animation of 99,000 one-pixel frames."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (1, 1), (200, 10, 10)).save(out, format="WEBP", lossless=True)
    still = out.getvalue()
    bitstream = still[12:]  # the still image's VP8L chunk, as it stands
    frame = _riff_chunk(b"ANMF", b"\x00" * 6 + b"\x00" * 6 + b"\x64\x00\x00\x00" + bitstream)
    body = (_riff_chunk(b"VP8X", b"\x02\x00\x00\x00" + b"\x00" * 6) + _riff_chunk(b"ANIM", b"\x00" * 6)
            + frame * 99_000)
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


def heic_images() -> bytes:
    """A HEIC holding 200 images, the first with the 64 KB EXIF block of :func:`jpeg_exif`."""
    import pillow_heif

    images = [(bytes([i % 251]) * 3) * 64 for i in range(200)]
    heif = pillow_heif.from_bytes(mode="RGB", size=(8, 8), data=images[0])
    for data in images[1:]:
        heif.add_frombytes(mode="RGB", size=(8, 8), data=data)
    out = io.BytesIO()
    heif.save(out, quality=10, exif=b"Exif\x00\x00" + _exif_block())
    return out.getvalue()


# --- Audio and video ------------------------------------------------------------------------------

_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def _box(kind: bytes, *children: bytes) -> bytes:
    payload = b"".join(children)
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def _full(kind: bytes, payload: bytes) -> bytes:
    return _box(kind, b"\x00\x00\x00\x00", payload)


def _mvhd(seconds: int) -> bytes:
    times = struct.pack(">IIIIIH10x", 0, 0, 1000, seconds * 1000, 0x10000, 0x100)
    return _full(b"mvhd", times + _MATRIX + bytes(24) + struct.pack(">I", 2))


def _trak(handler: bytes, width: int = 0, height: int = 0) -> bytes:
    tkhd = _full(b"tkhd", struct.pack(">IIIII", 0, 0, 1, 0, 0) + bytes(8) + struct.pack(">hhhH", 0, 0, 0, 0)
                 + _MATRIX + struct.pack(">II", width << 16, height << 16))
    mdhd = _full(b"mdhd", struct.pack(">IIIIHH", 0, 0, 44_100, 44_100 * 60, 0x55C4, 0))
    hdlr = _full(b"hdlr", struct.pack(">I4s12x", 0, handler) + b"handler\x00")
    return _box(b"trak", tkhd, _box(b"mdia", mdhd, hdlr))


_FTYP = _box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2mp41")
_MOVIE = _box(b"moov", _mvhd(60), _trak(b"vide", 1280, 720))


def mp4_boxes() -> bytes:
    """A movie followed by 620,000 empty free-space boxes."""
    return _FTYP + _MOVIE + _box(b"free") * 620_000


def mp4_fragments() -> bytes:
    """A fragmented movie of 50,000 fragments (an hour-long stream cut every 72 ms)."""
    fragment = _box(b"moof", _full(b"mfhd", b"\x00\x00\x00\x01"),
                    _box(b"traf", _full(b"tfhd", b"\x00\x00\x00\x01"), _full(b"trun", b"\x00\x00\x00\x00"))) \
        + _box(b"mdat", b"\x00" * 8)
    return _FTYP + _MOVIE + fragment * 50_000


def mp4_tracks() -> bytes:
    """A movie of 19,000 tracks (video first, then audio): 95,000 boxes, just within the walk's budget."""
    tracks = [_trak(b"vide", 640, 360)] + [_trak(b"soun")] * 18_999
    return _FTYP + _box(b"moov", _mvhd(60), *tracks)


def mp4_deep() -> bytes:
    """User data nested 600,000 boxes deep inside the movie."""
    inner = b"".join(struct.pack(">I4s", 8 * (600_000 - depth), b"udta") for depth in range(600_000))
    return _FTYP + _box(b"moov", _mvhd(60), _trak(b"vide", 320, 240), inner)


def mp4_tags() -> bytes:
    """Music with 24,000 free-form iTunes tags and a title: 96,000 boxes, just within the walk's budget."""
    def tag(name: bytes, value: bytes) -> bytes:
        return _box(name, _box(b"data", struct.pack(">II", 1, 0) + value))
    freeform = [_box(b"----", _full(b"mean", b"com.apple.iTunes"), _full(b"name", b"K%d" % i),
                     _box(b"data", struct.pack(">II", 1, 0) + b"v")) for i in range(24_000)]
    meta = _full(b"meta", _full(b"hdlr", struct.pack(">I4s12x", 0, b"mdir") + b"\x00")
                 + _box(b"ilst", tag(b"\xa9nam", b"Worst case"), *freeform))
    return _FTYP + _box(b"moov", _mvhd(60), _trak(b"soun"), _box(b"udta", meta))


def mov_chain() -> bytes:
    """A QuickTime movie behind 99,000 placeholder boxes, just within the walk's budget."""
    return _box(b"ftyp", b"qt  \x00\x00\x02\x00qt  ") + _box(b"wide") * 99_000 + _MOVIE + _box(b"mdat")


_MPEG_FRAME = b"\xff\xfb\x90\x64" + b"\x00" * 413  # MPEG-1 layer III, 128 kbit/s, 44.1 kHz


def _syncsafe(n: int) -> bytes:
    return bytes([(n >> 21) & 0x7F, (n >> 14) & 0x7F, (n >> 7) & 0x7F, n & 0x7F])


def mp3_id3() -> bytes:
    """A song whose ID3v2.4 tag holds 120,000 user text frames ahead of a title and artist."""
    def frame(kind: bytes, data: bytes) -> bytes:
        return kind + _syncsafe(len(data)) + b"\x00\x00" + data
    frames = b"".join(frame(b"TXXX", b"\x03K%d\x00value" % i) for i in range(120_000))
    frames += frame(b"TIT2", b"\x03Worst case") + frame(b"TPE1", b"\x03DocPortal")
    return b"ID3\x04\x00\x00" + _syncsafe(len(frames)) + frames + _MPEG_FRAME * 20


def mp3_empty() -> bytes:
    """A song whose ID3v2.4 tag is 490,000 empty frames: mutagen copies the rest of the tag for each."""
    frames = b"TXXX\x00\x00\x00\x00\x00\x00" * 490_000
    return b"ID3\x04\x00\x00" + _syncsafe(len(frames)) + frames + _MPEG_FRAME * 20


def wav_id3() -> bytes:
    """A WAV file whose ID3 chunk is the tag of :func:`mp3_empty`, 490,000 empty frames."""
    tag = mp3_empty()[:-len(_MPEG_FRAME) * 20]
    fmt = _riff_chunk(b"fmt ", struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16))
    body = b"WAVE" + fmt + _riff_chunk(b"data", b"\x00" * 16000) + _riff_chunk(b"id3 ", tag)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def mp3_junk() -> bytes:
    """4.9 MB of bytes that look like frame starts but are not, then a short song."""
    return b"\xff\xfb\x90" * 1_630_000 + _MPEG_FRAME * 20


def _flac(*blocks: tuple[int, bytes]) -> bytes:
    """fLaC, a STREAMINFO of one minute at 44.1 kHz stereo, then ``blocks`` (type, payload)."""
    info = struct.pack(">HH3s3s", 4096, 4096, b"\x00\x00\x00", b"\x00\x00\x00")
    info += ((44_100 << 44) | (1 << 41) | (15 << 36) | 44_100 * 60).to_bytes(8, "big") + bytes(16)
    every = [(0, info), *blocks]
    return b"fLaC" + b"".join(bytes([kind | (0x80 if i == len(every) - 1 else 0)])
                              + len(payload).to_bytes(3, "big") + payload
                              for i, (kind, payload) in enumerate(every))


def flac_blocks() -> bytes:
    """A FLAC file of 1,240,000 empty padding blocks."""
    return _flac(*([(1, b"")] * 1_240_000))


def flac_comments() -> bytes:
    """A FLAC file whose Vorbis comment holds 390,000 tags."""
    comments = [b"K%d=v" % i for i in range(390_000)] + [b"TITLE=Worst case"]
    block = (struct.pack("<I", 9) + b"DocPortal" + struct.pack("<I", len(comments))
             + b"".join(struct.pack("<I", len(c)) + c for c in comments))
    return _flac((4, block))


def _vorbis_headers(comments: list[bytes]) -> list[bytes]:
    ident = b"\x01vorbis" + struct.pack("<IBIiii", 0, 2, 44_100, 0, 128_000, 0) + b"\xb8\x01"
    comment = (b"\x03vorbis" + struct.pack("<I", 9) + b"DocPortal" + struct.pack("<I", len(comments))
               + b"".join(struct.pack("<I", len(c)) + c for c in comments) + b"\x01")
    return [ident, comment, b"\x05vorbis" + b"\x00" * 8]


def _ogg(headers: list[bytes], per_page: int, audio_pages: int) -> bytes:
    """Vorbis ``headers`` cut into pages of ``per_page`` bytes, then pages of one audio byte each."""
    from mutagen.ogg import OggPage  # it writes pages with their checksums; it is untyped

    def new_page() -> OggPage:
        return OggPage()  # type: ignore[no-untyped-call]

    first = new_page()
    first.packets = headers[:1]  # the identification header has the first page to itself
    pages = [first, *OggPage.from_packets(headers[1:], default_size=per_page,  # type: ignore[no-untyped-call]
                                          wiggle_room=0)]
    for position in range(1, audio_pages + 1):  # one minute at 44.1 kHz in all
        page = new_page()
        page.packets, page.position = [b"\x00"], position * 44_100 * 60 // audio_pages
        pages.append(page)
    pages[0].first, pages[-1].last = True, True
    out = []
    for sequence, page in enumerate(pages):
        page.serial, page.sequence = 7, sequence
        out.append(page.write())
    return b"".join(out)


def ogg_comments() -> bytes:
    """An Ogg Vorbis file whose comment packet, 200,000 tags, spans 17,000 small pages."""
    return _ogg(_vorbis_headers([b"K%d=v" % i for i in range(200_000)] + [b"TITLE=Worst case"]), 255, 1)


def ogg_pages() -> bytes:
    """An Ogg Vorbis file of 170,000 pages of one audio byte each."""
    return _ogg(_vorbis_headers([b"TITLE=Worst case"]), 4096, 170_000)


def wav_chunks() -> bytes:
    """A WAV file with 620,000 empty chunks between its format and its samples."""
    fmt = _riff_chunk(b"fmt ", struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16))
    body = b"WAVE" + fmt + _riff_chunk(b"junk", b"") * 620_000 + _riff_chunk(b"data", b"\x00" * 16000)
    return b"RIFF" + struct.pack("<I", len(body)) + body
