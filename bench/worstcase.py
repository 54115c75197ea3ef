"""Worst-case files of at most 5 MB for every format family the extractor parses but PDF.

Issue 15 asks that any file of at most 5 MB be read within a second whatever
its structure, and never run into the parse time limit for a structural
reason. The corpus (:mod:`bench.corpus`) has typical files and files hostile
on purpose; these are the files in between: each is a valid (or nearly
valid) file of its kind whose structure costs a parser the most per byte:
thousands of parts, frames, pages or MIME parts, deep nesting, millions of
tiny elements, metadata blocks that point at each other. They are made by
hand, deterministically (the same bytes every time), here and in
:mod:`bench.worstcase_office` and :mod:`bench.worstcase_media`.

``python -m bench.worstcase DIR`` writes them and prints how long extracting
each takes with the default :class:`~extractor.extract.Config`, slowest first.
"""

from __future__ import annotations

import argparse
import importlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

from bench import worstcase_media as media
from bench import worstcase_office as office
from bench.corpus import WORDS
from extractor.extract import PARSERS, Config, extract_file

#: The size no case may exceed.
MAX_BYTES = 5_000_000


# --- Text ------------------------------------------------------------------------------------------

def csv_columns() -> bytes:
    """A table 200,000 columns wide: a header of named columns and eight rows."""
    header = ",".join(f"c{i}" for i in range(200_000))
    return (header + "\n" + ("1," * 199_999 + "1\n") * 8).encode()


def csv_line() -> bytes:
    """One 5 MB line of 1,660,000 short fields and no line break."""
    return b"ab," * 1_660_000 + b"ab"


def text_words() -> bytes:
    """2,500,000 one-letter words."""
    return b"a " * 2_500_000


def text_legacy() -> bytes:
    """5 MB of Russian text in Windows-1251, which no byte order mark or UTF-8 check recognises."""
    rng = random.Random(3)
    letters = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
    words = [" ".join("".join(rng.choice(letters) for _ in range(rng.randint(2, 9))) for _ in range(12))
             for _ in range(500)]
    return "\n".join(words[i % 500] for i in range(64_000)).encode("cp1251")[:MAX_BYTES]


def json_keys() -> bytes:
    """An object of 400,000 keys."""
    return ("{" + ",".join(f'"k{i}":{i % 10}' for i in range(400_000)) + "}").encode()


def json_brackets() -> bytes:
    """An array of 1,650,000 empty arrays."""
    return b"[" + b"[]," * 1_650_000 + b"[]]"


def json_deep() -> bytes:
    """9,900 arrays each nested 250 deep, just within the nesting limit."""
    return b"[" + (b"[" * 250 + b"]" * 250 + b",") * 9_900 + b"0]"


def json_escapes() -> bytes:
    """A string of 2,499,000 escaped quotes."""
    return b'["' + b'\\"' * 2_499_000 + b'"]'


def xml_elements() -> bytes:
    """1,240,000 empty elements under one root."""
    return b"<?xml version='1.0'?><r>" + b"<a/>" * 1_240_000 + b"</r>"


def xml_deep() -> bytes:
    """2,850 branches each nested 250 deep, just within the nesting limit."""
    return b"<r>" + (b"<a>" * 250 + b"</a>" * 250) * 2_850 + b"</r>"


def xml_attributes() -> bytes:
    """One element with 400,000 attributes."""
    return ("<r " + " ".join(f'a{i}="{i % 10}"' for i in range(400_000)) + "/>").encode()


_HTML_HEAD = b'<!doctype html><html lang="en"><head><title>Worst case</title></head><body>'


def html_comments() -> bytes:
    """A page whose body is 1,240,000 comment openers that never close."""
    return _HTML_HEAD + b"<!--" * 1_240_000


def html_attributes() -> bytes:
    """A page whose body is one tag with a million attributes that never ends."""
    return _HTML_HEAD + b"<a b=" * 990_000


# --- E-mail and zip --------------------------------------------------------------------------------

def _message(subject: str) -> EmailMessage:
    message = EmailMessage(policy=SMTP)
    message["From"], message["To"] = "billing@example.com", "ap@example.org"
    message["Subject"], message["Date"] = subject, "Mon, 02 Nov 2026 10:00:00 +0000"
    return message


def eml_parts() -> bytes:
    """A message of 30,000 small attachments."""
    part = ("--{b}\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
            'Content-Disposition: attachment; filename="f{i}.bin"\r\n\r\neA==\r\n')
    body = "".join(part.format(b="worstcase", i=i) for i in range(30_000))
    headers = bytes(_message("Thirty thousand attachments")).split(b"\r\n\r\n")[0]
    return (headers + b'\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="worstcase"\r\n\r\n'
            + body.encode() + b"--worstcase--\r\n")


def eml_deep() -> bytes:
    """Multiparts nested 200 deep around 90,000 lines of text."""
    rng = random.Random(4)
    lines = "\r\n".join(" ".join(rng.choice(WORDS) for _ in range(6)) for _ in range(90_000))
    body = f"Content-Type: text/plain\r\n\r\n{lines}\r\n"
    for depth in range(200):
        body = (f'Content-Type: multipart/mixed; boundary="b{depth}"\r\n\r\n--b{depth}\r\n{body}'
                f"--b{depth}--\r\n")
    headers = bytes(_message("Nested two hundred deep")).split(b"\r\n\r\n")[0]
    return headers.replace(b"\r\nContent-Type", b"") + b"\r\nMIME-Version: 1.0\r\n" + body.encode()


def eml_lines() -> bytes:
    """A message whose text is 2,400,000 empty lines."""
    return bytes(_message("Blank")).split(b"\r\n\r\n")[0] + b"\r\n\r\n" + b"\r\n" * 2_400_000


def eml_headers() -> bytes:
    """A message that went through 50,000 relays, each adding a Received header."""
    received = "".join(f"Received: from relay{i}.example.net by relay{i + 1}.example.net; "
                       "Mon, 02 Nov 2026 10:00:00 +0000\r\n" for i in range(50_000))
    return received.encode() + bytes(_message("Fifty thousand relays"))


def zip_entries() -> bytes:
    """A zip of 20,000 empty files: exactly the member cap (``Limits.max_members``)."""
    return office.zipped(((f"{i:05d}", b"") for i in range(20_000)), deflate=False)


def zip_over() -> bytes:
    """A zip of 50,000 empty files: more than the member cap, so refused."""
    return office.zipped(((f"{i:05d}", b"") for i in range(50_000)), deflate=False)


def epub_entries() -> bytes:
    """An EPUB of 19,999 chapters and its mimetype."""
    chapters = ((f"OEBPS/c{i}.xhtml", b"<html/>") for i in range(19_999))
    return office.zipped([("mimetype", b"application/epub+zip"), *chapters], deflate=False)


#: File name -> what writes it. Names carry the extension the format is known by.
CASES: dict[str, Callable[[], bytes]] = {
    "docx-body.docx": office.docx_body, "docx-parts.docx": office.docx_parts,
    "docx-rels.docx": office.docx_rels, "xlsx-cells.xlsx": office.xlsx_cells,
    "xlsx-strings.xlsx": office.xlsx_strings, "xlsx-sheets.xlsx": office.xlsx_sheets,
    "pptx-slides.pptx": office.pptx_slides, "ods-content.ods": office.ods_content,
    "odp-pages.odp": office.odp_pages,
    "png-text.png": media.png_text, "png-ztxt.png": media.png_ztxt, "png-chunks.png": media.png_chunks,
    "jpeg-exif.jpg": media.jpeg_exif, "jpeg-segments.jpg": media.jpeg_segments,
    "jpeg-xmp.jpg": media.jpeg_xmp,
    "tiff-pages.tif": media.tiff_pages, "tiff-tags.tif": media.tiff_tags, "tiff-xmp.tif": media.tiff_xmp,
    "gif-frames.gif": media.gif_frames, "webp-frames.webp": media.webp_frames,
    "heic-images.heic": media.heic_images,
    "mp4-boxes.mp4": media.mp4_boxes, "mp4-fragments.mp4": media.mp4_fragments,
    "mp4-tracks.mp4": media.mp4_tracks, "mp4-deep.mp4": media.mp4_deep, "mp4-tags.m4a": media.mp4_tags,
    "mov-chain.mov": media.mov_chain, "mp3-id3.mp3": media.mp3_id3, "mp3-empty.mp3": media.mp3_empty,
    "mp3-junk.mp3": media.mp3_junk,
    "flac-blocks.flac": media.flac_blocks, "flac-comments.flac": media.flac_comments,
    "ogg-comments.ogg": media.ogg_comments, "ogg-pages.ogg": media.ogg_pages,
    "wav-chunks.wav": media.wav_chunks, "wav-id3.wav": media.wav_id3,
    "csv-columns.csv": csv_columns, "csv-line.csv": csv_line, "text-words.txt": text_words,
    "text-legacy.txt": text_legacy, "json-keys.json": json_keys, "json-brackets.json": json_brackets,
    "json-deep.json": json_deep, "json-escapes.json": json_escapes, "xml-elements.xml": xml_elements,
    "xml-deep.xml": xml_deep, "xml-attributes.xml": xml_attributes, "html-comments.html": html_comments,
    "html-attributes.html": html_attributes,
    "eml-parts.eml": eml_parts, "eml-deep.eml": eml_deep, "eml-lines.eml": eml_lines,
    "eml-headers.eml": eml_headers,
    "zip-entries.zip": zip_entries, "zip-over.zip": zip_over, "epub-entries.epub": epub_entries,
}


def write(out: Path, name: str) -> Path:
    """Write the case ``name`` into ``out``; its path."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / name
    path.write_bytes(CASES[name]())
    return path


def generate(out: Path) -> list[Path]:
    """Write every case into ``out``; their paths, in :data:`CASES` order."""
    return [write(out, name) for name in CASES]


@dataclass(frozen=True)
class Timing:
    """How extracting one case went."""

    name: str
    size: int
    seconds: float
    status: str
    flags: tuple[str, ...]
    error: str


def measure(paths: list[Path], config: Config | None = None) -> list[Timing]:
    """Extract each file once through the real path (detect, sandboxed parse); slowest first.

    Every parser module is imported before the first file, so the sandbox's
    worker (forked on first use) has them all and no file pays for an import.
    """
    for target in set(PARSERS.values()):
        importlib.import_module(f"extractor.formats.{target.partition(':')[0]}")
    config = config or Config()
    timings = []
    for path in paths:
        started = time.perf_counter()
        record = extract_file(path, path.name, config)
        seconds = time.perf_counter() - started
        timings.append(Timing(path.name, record.size, seconds, record.status.value, record.flags,
                              record.error))
    return sorted(timings, key=lambda t: -t.seconds)


def main() -> None:
    """``python -m bench.worstcase DIR [--only NAME ...]``: write the cases, time their extraction."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--only", nargs="+", choices=sorted(CASES), metavar="NAME", help="these cases alone")
    args = parser.parse_args()
    paths = [write(args.out, name) for name in args.only or CASES]
    print(f"{'file':24} {'MB':>5} {'seconds':>8}  {'status':9} flags / error")
    for t in measure(paths):
        print(f"{t.name:24} {t.size / 1e6:5.2f} {t.seconds:8.3f}  {t.status:9} "
              f"{','.join(t.flags)} {t.error[:70]}".rstrip())


if __name__ == "__main__":
    main()
