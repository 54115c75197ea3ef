"""What DocPortal knows how to name: statuses, formats, flags and metadata fields. Pure.

The extractor writes these names and the portal filters, labels, counts and
exports by them, so both import them from here instead of keeping copies:
the upload allow-list, the explorer's filters and detail groups, the CSV
columns and the dashboard's status choices are all derived from this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

# --- statuses ---------------------------------------------------------------------


class FileStatus(StrEnum):
    """Where a file is in its life; all but the first three are terminal."""

    #: Registered through the API for a direct upload, its object not yet arrived: counted
    #: nowhere, and removed by the table's TTL (``expires_at``) unless the object arrives.
    PENDING = "pending"
    UPLOADED = "uploaded"
    PROCESSING = "processing"
    PROCESSED = "processed"
    FAILED = "failed"
    #: The object was removed by the retention rule; its metadata is kept.
    EXPIRED = "expired"
    #: Deleted by its owner or an admin: the object is removed, the item kept as a
    #: tombstone that counts nowhere and that the extractor never claims again.
    DELETED = "deleted"

    @property
    def terminal(self) -> bool:
        """True once nothing more will happen to the file on its own."""
        return self not in (FileStatus.PENDING, FileStatus.UPLOADED, FileStatus.PROCESSING)


#: Statuses the aggregate counters count (``status_<status>``): every finished, not deleted file.
COUNTED_STATUSES: tuple[FileStatus, ...] = (FileStatus.PROCESSED, FileStatus.FAILED, FileStatus.EXPIRED)

# --- formats ----------------------------------------------------------------------


@dataclass(frozen=True)
class Format:
    """A format the extractor tells apart by content: its short stable name and MIME type."""

    name: str
    mime_type: str


#: Every ``format`` a record can have, in the order people are offered them.
FORMATS: tuple[Format, ...] = (
    Format("pdf", "application/pdf"),
    Format("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    Format("docm", "application/vnd.ms-word.document.macroEnabled.12"),
    Format("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    Format("xlsm", "application/vnd.ms-excel.sheet.macroEnabled.12"),
    Format("pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    Format("pptm", "application/vnd.ms-powerpoint.presentation.macroEnabled.12"),
    Format("odt", "application/vnd.oasis.opendocument.text"),
    Format("ods", "application/vnd.oasis.opendocument.spreadsheet"),
    Format("odp", "application/vnd.oasis.opendocument.presentation"),
    Format("epub", "application/epub+zip"),
    Format("ole", "application/x-ole-storage"),
    Format("jpg", "image/jpeg"),
    Format("png", "image/png"),
    Format("tif", "image/tiff"),
    Format("gif", "image/gif"),
    Format("webp", "image/webp"),
    Format("bmp", "image/bmp"),
    Format("heic", "image/heic"),
    Format("mp3", "audio/mpeg"),
    Format("wav", "audio/wav"),
    Format("flac", "audio/flac"),
    Format("ogg", "audio/ogg"),
    Format("mp4", "video/mp4"),
    Format("mov", "video/quicktime"),
    Format("zip", "application/zip"),
    Format("eml", "message/rfc822"),
    Format("csv", "text/csv"),
    Format("tsv", "text/tab-separated-values"),
    Format("json", "application/json"),
    Format("xml", "application/xml"),
    Format("html", "text/html"),
    Format("markdown", "text/markdown"),
    Format("text", "text/plain"),
    Format("empty", "application/x-empty"),
    Format("unknown", "application/octet-stream"),
)
FORMAT_NAMES: tuple[str, ...] = tuple(f.name for f in FORMATS)
MIME_TYPES: Mapping[str, str] = {f.name: f.mime_type for f in FORMATS}
#: Formats that say only what the content is not: no parser, no type-mismatch flag.
UNREAD_FORMATS = frozenset({"empty", "unknown"})
#: Formats the extractor draws a preview of (an image's thumbnail, a PDF's first page), when processed.
PREVIEW_FORMATS = frozenset({"jpg", "png", "gif", "webp", "bmp", "tif", "pdf"})
#: Larger files get no preview: drawing one would cost more than it shows.
PREVIEW_MAX_BYTES = 20 * 1024 * 1024
#: How every PNG begins: previews are stored as PNGs, and checked for it before they are stored or shown.
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

#: For each file-name extension, the formats its content may have; any other is a type mismatch.
EXTENSION_FORMATS: Mapping[str, frozenset[str]] = {ext: frozenset(formats) for ext, formats in {
    "pdf": {"pdf"}, "docx": {"docx"}, "docm": {"docm", "docx"}, "dotx": {"docx"},
    "xlsx": {"xlsx"}, "xlsm": {"xlsm", "xlsx"}, "pptx": {"pptx"}, "pptm": {"pptm", "pptx"},
    "odt": {"odt"}, "ods": {"ods"}, "odp": {"odp"}, "epub": {"epub"}, "zip": {"zip", "epub"},
    "doc": {"ole"}, "xls": {"ole"}, "ppt": {"ole"}, "msg": {"ole"},
    "jpg": {"jpg"}, "jpeg": {"jpg"}, "jpe": {"jpg"}, "png": {"png"}, "tif": {"tif"}, "tiff": {"tif"},
    "gif": {"gif"}, "webp": {"webp"}, "bmp": {"bmp"}, "heic": {"heic"}, "heif": {"heic"},
    "mp3": {"mp3"}, "wav": {"wav"}, "flac": {"flac"}, "ogg": {"ogg"}, "oga": {"ogg"},
    "mp4": {"mp4"}, "m4a": {"mp4"}, "m4v": {"mp4"}, "mov": {"mov", "mp4"}, "qt": {"mov"},
    "eml": {"eml", "text"},
    "txt": {"text", "markdown", "csv", "tsv", "json", "xml", "html", "eml"},
    "text": {"text", "markdown", "csv", "tsv"}, "log": {"text", "csv", "tsv", "json"},
    "md": {"markdown", "text"}, "markdown": {"markdown", "text"},
    "csv": {"csv", "tsv", "text"}, "tsv": {"tsv", "csv", "text"}, "tab": {"tsv", "text"},
    "json": {"json"}, "geojson": {"json"}, "xml": {"xml"}, "svg": {"xml"},
    "html": {"html", "xml"}, "htm": {"html", "xml"},
}.items()}


def type_mismatch(extension: str, fmt: str) -> bool:
    """True when a name's extension promises other content than the file has."""
    if fmt in UNREAD_FORMATS or extension not in EXTENSION_FORMATS:
        return False
    return fmt not in EXTENSION_FORMATS[extension]


@dataclass(frozen=True)
class Family:
    """A group of formats as a person names it, with the extensions the portal accepts for it."""

    name: str
    label: str
    extensions: frozenset[str]


#: What the portal accepts for upload, in the order shown to users: the extractor's formats
#: (README, "The extractor") by the extensions people give them.
FAMILIES: tuple[Family, ...] = (
    Family("pdf", "PDF", frozenset({"pdf"})),
    Family("word", "Word", frozenset({"docx", "docm"})),
    Family("excel", "Excel", frozenset({"xlsx", "xlsm"})),
    Family("powerpoint", "PowerPoint", frozenset({"pptx", "pptm"})),
    Family("opendocument", "OpenDocument", frozenset({"odt", "ods", "odp"})),
    Family("images", "images", frozenset({"jpg", "jpeg", "jpe", "png", "tif", "tiff", "gif", "webp",
                                          "bmp", "heic", "heif"})),
    Family("media", "audio and video", frozenset({"mp3", "wav", "flac", "ogg", "oga", "mp4", "m4a",
                                                  "m4v", "mov", "qt"})),
    Family("text", "text and data", frozenset({"txt", "text", "log", "md", "markdown", "csv", "tsv",
                                               "tab", "json", "geojson", "xml", "html", "htm"})),
    Family("zip", "ZIP", frozenset({"zip"})),
    Family("email", "e-mail", frozenset({"eml"})),
)
FAMILY_NAMES: tuple[str, ...] = tuple(f.name for f in FAMILIES)

# --- flags ------------------------------------------------------------------------


class Flag(StrEnum):
    """A risk or quality flag on a file; the value is what records store."""

    #: Encrypted, but opens without a password (only an owner password restricts printing or copying).
    ENCRYPTED = "encrypted"
    #: Needs a password to open: only what the file's plain structure says was read. Not a failure.
    PASSWORD_PROTECTED = "password_protected"  # noqa: S105 - a flag's name, not a password
    JAVASCRIPT = "javascript"
    MACROS = "macros"
    TYPE_MISMATCH = "type_mismatch"
    GPS = "gps"
    SCANNED = "scanned"
    #: Same SHA-256 as another finished file of the same owner; the later one is flagged.
    DUPLICATE = "duplicate"
    EMPTY = "empty"
    #: The file's structure is broken (cut short, a wrong cross-reference table): read after repair.
    DAMAGED = "damaged"

    @property
    def label(self) -> str:
        """The flag as a person reads it: ``type mismatch``."""
        return self.value.replace("_", " ")


def flag_label(value: str) -> str:
    """A stored flag as a person reads it; one this version does not know keeps its words."""
    return Flag(value).label if value in Flag._value2member_map_ else value.replace("_", " ")


#: Flags that warn of a risk, shown first; the others are notes on quality.
RISK_FLAGS: tuple[Flag, ...] = (Flag.PASSWORD_PROTECTED, Flag.ENCRYPTED, Flag.JAVASCRIPT, Flag.MACROS,
                                Flag.TYPE_MISMATCH)
QUALITY_FLAGS: tuple[Flag, ...] = (Flag.DAMAGED, Flag.GPS, Flag.SCANNED, Flag.DUPLICATE, Flag.EMPTY)
#: Flags a format parser may raise; the extractor itself adds type_mismatch, duplicate and empty.
PARSER_FLAGS: frozenset[Flag] = frozenset({Flag.ENCRYPTED, Flag.PASSWORD_PROTECTED, Flag.JAVASCRIPT,
                                           Flag.MACROS, Flag.GPS, Flag.SCANNED, Flag.DAMAGED})

# --- metadata fields ----------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """A format field the parsers report (a key of a record's ``metadata``).

    ``group`` is the block of the file's detail view it is shown in; ``label``
    what people read, when the name with spaces would not do.
    """

    name: str
    group: str
    label: str = ""

    @property
    def title(self) -> str:
        """The label people read."""
        return self.label or self.name.replace("_", " ").capitalize()


#: Blocks of the detail view, in the order shown.
FIELD_GROUPS: tuple[str, ...] = ("Document", "Dates", "Image", "Location", "Audio and video",
                                 "Text and data", "Archive and e-mail", "Other")
_DOCUMENT, _DATES, _IMAGE, _LOCATION, _MEDIA, _TEXT, _ARCHIVE, _OTHER = FIELD_GROUPS

#: Every format field, in the order exports offer them (see README, "The extractor").
METADATA_FIELDS: tuple[Field, ...] = (
    Field("title", _DOCUMENT), Field("author", _DOCUMENT), Field("subject", _DOCUMENT),
    Field("keywords", _DOCUMENT), Field("creator", _DOCUMENT), Field("producer", _DOCUMENT),
    Field("created", _DATES), Field("modified", _DATES),
    Field("last_modified_by", _DOCUMENT), Field("revision", _DOCUMENT), Field("pages", _DOCUMENT),
    Field("words", _DOCUMENT), Field("characters", _DOCUMENT), Field("word_count", _DOCUMENT),
    Field("paragraphs", _DOCUMENT), Field("tables", _DOCUMENT), Field("images", _DOCUMENT),
    Field("pdf_version", _DOCUMENT, "PDF version"), Field("encrypted", _DOCUMENT),
    Field("page_width", _DOCUMENT), Field("page_height", _DOCUMENT),
    Field("has_text", _DOCUMENT, "Has a text layer"), Field("form_fields", _DOCUMENT),
    Field("pdfa", _DOCUMENT, "PDF/A"), Field("sheets", _DOCUMENT), Field("sheet_count", _DOCUMENT),
    Field("cells", _DOCUMENT), Field("has_formulas", _DOCUMENT), Field("slides", _DOCUMENT),
    Field("has_notes", _DOCUMENT), Field("odf_type", _DOCUMENT, "ODF type"),
    Field("width", _IMAGE), Field("height", _IMAGE), Field("mode", _IMAGE), Field("dpi", _IMAGE, "DPI"),
    Field("frames", _IMAGE), Field("camera_make", _IMAGE), Field("camera_model", _IMAGE),
    Field("taken_at", _DATES, "Taken"), Field("orientation", _IMAGE),
    Field("gps_latitude", _LOCATION, "Latitude"), Field("gps_longitude", _LOCATION, "Longitude"),
    Field("duration_seconds", _MEDIA, "Duration"), Field("bitrate", _MEDIA), Field("sample_rate", _MEDIA),
    Field("channels", _MEDIA), Field("has_video", _MEDIA), Field("artist", _MEDIA),
    Field("encoding", _TEXT), Field("lines", _TEXT), Field("delimiter", _TEXT), Field("header", _TEXT),
    Field("columns", _TEXT), Field("rows", _TEXT), Field("json_type", _TEXT, "JSON type"),
    Field("root_element", _TEXT), Field("lang", _DOCUMENT, "Language"), Field("top_level_keys", _TEXT),
    Field("items", _TEXT), Field("entries", _ARCHIVE), Field("uncompressed_bytes", _ARCHIVE),
    Field("member_types", _ARCHIVE), Field("encrypted_entries", _ARCHIVE),
    Field("nested_archives", _ARCHIVE), Field("from", _ARCHIVE), Field("to", _ARCHIVE),
    Field("cc", _ARCHIVE, "Cc"), Field("date", _DATES), Field("attachments", _ARCHIVE),
    Field("attachment_count", _ARCHIVE), Field("note", _OTHER),
)
METADATA_FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in METADATA_FIELDS)
FIELDS_BY_NAME: Mapping[str, Field] = {f.name: f for f in METADATA_FIELDS}
