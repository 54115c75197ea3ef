"""``python -m portal.export``: the Export page's CSV, from the command line, for scheduled use.

It runs as an operator (AWS credentials, no portal user), so every file of
the period can be exported; the output is the same bytes the page writes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from common import aws
from common.settings import Settings, SettingsError
from portal.export.csv_shape import DEFAULT_COLUMNS
from portal.export.service import STATUSES, ExportRequest, Progress, csv_chunks, write


def main(argv: list[str] | None = None) -> int:
    """The command line: the same export, for scheduled use."""
    today = dt.datetime.now(dt.UTC).date()
    parser = argparse.ArgumentParser(prog="python -m portal.export",
                                     description="Export DocPortal file metadata as CSV.")
    parser.add_argument("--from", dest="start", help="first upload day, YYYY-MM-DD (default: 30 days ago)")
    parser.add_argument("--to", dest="end", help="last upload day, YYYY-MM-DD (default: today)")
    parser.add_argument("--owner", help="only this uploader (Cognito sub)")
    parser.add_argument("--format", dest="formats", action="append", default=[],
                        help="only this format (repeatable)")
    parser.add_argument("--status", choices=STATUSES, default="all")
    parser.add_argument("--tag", dest="tags", action="append", default=[],
                        help="only files with this tag (repeatable: any of them)")
    parser.add_argument("--all-tags", action="store_true", help="only files with every --tag")
    parser.add_argument("--columns", default=",".join(DEFAULT_COLUMNS), help="comma-separated column names")
    parser.add_argument("--bom", action="store_true", help="start with a UTF-8 BOM (for Excel)")
    parser.add_argument("--out", default="-", help="file to write (default: standard output)")
    args = parser.parse_args(argv)
    try:
        request = ExportRequest(
            start_day=args.start or str(today - dt.timedelta(days=30)), end_day=args.end or str(today),
            owner=args.owner, formats=frozenset(args.formats), status=args.status,
            columns=tuple(c.strip() for c in args.columns.split(",") if c.strip()), bom=args.bom,
            tags=frozenset(args.tags), all_tags=args.all_tags)
        settings = Settings.from_env()
    except (ValueError, SettingsError) as e:
        parser.error(str(e))
    progress = Progress()
    chunks = csv_chunks(aws.client("dynamodb"), settings.table, request, user=None, progress=progress)
    if args.out == "-":
        write(chunks, sys.stdout.buffer)
    else:
        with open(args.out, "wb") as out:
            write(chunks, out)
    print(f"{progress.rows} file(s) exported", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
