"""``docportal``'s commands: login, logout, upload, status, files, get, export.

Where the API is: ``DOCPORTAL_API_URL`` (default ``make run``'s,
``http://127.0.0.1:8502``). The token: ``DOCPORTAL_API_TOKEN`` as it is, else
the kept login (``docportal login``), else a script's client credentials from
``DOCPORTAL_MACHINE_CLIENT_ID``, ``_SECRET`` and ``DOCPORTAL_TOKEN_URL``.
"""

from __future__ import annotations

import argparse
import getpass
import io
import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any
from urllib import parse

from api.cli import login
from api.cli.http import OK, REFUSED, USAGE, Api, CliError, download, refused
from api.cli.transfer import Outcome, Progress, upload_all
from common.catalogue import FileStatus
from common.settings import Settings, SettingsError

#: Seconds between two looks at the files ``status`` waits for.
POLL_SECONDS = 1.0


def parser() -> argparse.ArgumentParser:
    """The command line."""
    top = argparse.ArgumentParser(
        prog="docportal", description="DocPortal from a shell or a script: upload files straight to S3, "
        "wait for them, list them, export their metadata.", epilog="Exit codes: 0 done; 1 refused (the API's "
        "reason is printed) or a file failed; 2 usage, sign-in or an expired login; 3 the API or the pool "
        "could not be reached.")
    commands = top.add_subparsers(dest="command", required=True)
    sign_in = commands.add_parser("login", help="sign in and keep the login for the next commands")
    sign_in.add_argument("--user", metavar="EMAIL",
                         help="a person (password: DOCPORTAL_API_PASSWORD, or asked)")
    sign_in.add_argument("--client-id",
                         help="a script's machine client (default DOCPORTAL_MACHINE_CLIENT_ID)")
    sign_in.add_argument("--client-secret",
                         help="its secret (default DOCPORTAL_MACHINE_CLIENT_SECRET, or asked)")
    sign_in.add_argument("--token-url", help="the pool's token endpoint (default DOCPORTAL_TOKEN_URL)")
    commands.add_parser("logout", help="forget the kept login")
    up = commands.add_parser("upload", help="upload files straight to S3, several at once")
    up.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    up.add_argument("--tag", action="append", default=[], help="a tag for every file (repeatable)")
    wait = commands.add_parser("status", help="wait until the files are processed, failed or deleted")
    wait.add_argument("file_ids", nargs="+", metavar="FILE_ID")
    wait.add_argument("--timeout", type=float, default=600.0, metavar="S", help="give up after S seconds")
    listing = commands.add_parser("files", help="your files (everyone's for analysts), newest first")
    listing.add_argument("--status", help="only these statuses, comma-separated")
    listing.add_argument("--json", action="store_true", help="every file as JSON instead of a table")
    one = commands.add_parser("get", help="one file with its metadata, as JSON")
    one.add_argument("file_id")
    export = commands.add_parser("export", help="the metadata of a period as CSV (analysts and admins)")
    export.add_argument("--from", dest="start", required=True, metavar="YYYY-MM-DD")
    export.add_argument("--to", dest="end", required=True, metavar="YYYY-MM-DD")
    export.add_argument("-o", "--output", type=Path, help="write to this file (default: standard output)")
    return top


def main(argv: Sequence[str] | None = None, out: IO[str] | None = None,
         env: Mapping[str, str] | None = None) -> int:
    """Run one command; its exit code."""
    out, env = out or sys.stdout, os.environ if env is None else env
    args = parser().parse_args(argv)
    try:
        settings = Settings.from_env(env, need_stack=False)
        if args.command == "login":
            return _login(args, settings, env, out)
        if args.command == "logout":
            print("Signed out." if login.forget(env) else "Not signed in.", file=out)
            return OK
        api = Api(settings.api_url or f"http://127.0.0.1:{settings.api_port}", _bearer(settings, env))
        run = {"upload": _upload, "status": _status, "files": _files, "get": _get, "export": _export}
        return run[args.command](api, args, out)
    except SettingsError as e:
        print(f"error: {e}", file=sys.stderr)
        return USAGE
    except CliError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.code


# --- signing in ---------------------------------------------------------------------------


def _login(args: argparse.Namespace, settings: Settings, env: Mapping[str, str], out: IO[str]) -> int:
    now = time.time()
    client_id = args.client_id or ("" if args.user else settings.machine_client_id)
    if args.user:
        stack = _local_stack(settings)
        if not stack.client_id or not stack.region:
            raise CliError("--user needs DOCPORTAL_CLIENT_ID and AWS_REGION (or make run's "
                           ".local/stack.json)", USAGE)
        cognito = stack.endpoint_url or f"https://cognito-idp.{stack.region}.amazonaws.com"
        password = settings.api_password or getpass.getpass(f"Password for {args.user}: ")
        kept = login.person_login(cognito, stack.client_id, args.user, password, now)
    elif client_id:
        token_url = args.token_url or settings.token_url
        if not token_url:
            raise CliError("--client-id needs --token-url or DOCPORTAL_TOKEN_URL (the stack's TokenUrl)",
                           USAGE)
        secret = args.client_secret or settings.machine_client_secret or getpass.getpass("Client secret: ")
        kept = login.machine_login(token_url, client_id, secret, now)
    else:
        raise CliError("say who signs in: --user EMAIL, or --client-id ID (or DOCPORTAL_MACHINE_CLIENT_ID)",
                       USAGE)
    path = login.save(kept, env)
    print(f"Signed in as {kept.who}; the login is kept in {path} and refreshed as needed.", file=out)
    return OK


def _local_stack(settings: Settings) -> Settings:
    """The settings, or where they lack the pool, ``make run``'s (``.local/stack.json``) when it is there."""
    if settings.client_id:
        return settings
    path = Path(settings.state_dir or ".local") / "stack.json"
    return Settings.load(path) if path.is_file() else settings


def _bearer(settings: Settings, env: Mapping[str, str]) -> str:
    if settings.api_token:
        return settings.api_token
    kept = login.current(env)
    if kept is not None:
        return kept.token
    if settings.machine_client_id and settings.machine_client_secret and settings.token_url:
        return login.machine_login(settings.token_url, settings.machine_client_id,
                                   settings.machine_client_secret, time.time()).token
    raise CliError("not signed in: run docportal login (or set DOCPORTAL_API_TOKEN, or "
                   "DOCPORTAL_MACHINE_CLIENT_ID, _SECRET and DOCPORTAL_TOKEN_URL)", USAGE)


# --- the commands -------------------------------------------------------------------------


def _upload(api: Api, args: argparse.Namespace, out: IO[str]) -> int:
    missing = [str(p) for p in args.paths if not p.is_file()]
    if missing:
        raise CliError(f"no such file: {', '.join(missing)}", USAGE)
    sizes = [p.stat().st_size for p in args.paths]
    outcomes = upload_all(api, args.paths, args.tag, Progress(sum(sizes), len(sizes)))
    stored = [o for o in outcomes if o.file_id]
    print(f"Stored {len(stored)} of {len(outcomes)} files:", file=out)
    _table(out, ("FILE ID", "SIZE", "NAME"), [(o.file_id, str(o.size), str(o.path)) for o in stored])
    failed: list[Outcome] = [o for o in outcomes if not o.file_id]
    if failed:
        print("Refused:", file=out)
        _table(out, ("NAME", "REASON"), [(str(o.path), o.error) for o in failed])
    return REFUSED if failed else OK


def _status(api: Api, args: argparse.Namespace, out: IO[str]) -> int:
    deadline = time.monotonic() + args.timeout
    seen: dict[str, str] = {}
    waiting = list(dict.fromkeys(args.file_ids))
    while waiting:
        for file_id in list(waiting):
            status, name = _look(api, file_id)
            if seen.get(file_id) != status:
                print(f"{file_id}  {status:<10}  {name}", file=out, flush=True)
                seen[file_id] = status
            if status == "not found" or FileStatus(status).terminal:
                waiting.remove(file_id)
        if waiting and time.monotonic() >= deadline:
            for file_id in waiting:
                print(f"{file_id}  timed out ({seen[file_id]} after {args.timeout:g} s)", file=out)
            return REFUSED
        if waiting:
            time.sleep(POLL_SECONDS)
    bad = [i for i, s in seen.items() if s in ("not found", FileStatus.FAILED.value)]
    return REFUSED if bad else OK


def _look(api: Api, file_id: str) -> tuple[str, str]:
    reply = api.reply("GET", f"/v1/files/{parse.quote(file_id, safe='')}")
    if reply.status == 404:
        return "not found", ""
    if reply.status >= 300:
        raise refused(reply)
    body = reply.json()
    return str(body["status"]), str(body["name"])


def _files(api: Api, args: argparse.Namespace, out: IO[str]) -> int:
    files: list[dict[str, Any]] = []
    query = {"status": args.status} if args.status else {}
    while True:
        page = api.call("GET", "/v1/files", query={**query, "page_size": "100"})
        files.extend(page["files"])
        if not page.get("next_token"):
            break
        query["page_token"] = page["next_token"]
    if args.json:
        print(json.dumps({"files": files}, indent=2), file=out)
    else:
        _table(out, ("FILE ID", "STATUS", "SIZE", "UPLOADED", "NAME"),
               [(f["file_id"], f["status"], "-" if f["size"] is None else str(f["size"]),
                 f["uploaded_at"][:19], f["name"]) for f in files])
    return OK


def _get(api: Api, args: argparse.Namespace, out: IO[str]) -> int:
    print(json.dumps(api.call("GET", f"/v1/files/{parse.quote(args.file_id, safe='')}"), indent=2), file=out)
    return OK


def _export(api: Api, args: argparse.Namespace, out: IO[str]) -> int:
    reply = api.reply("GET", "/v1/export", query={"from": args.start, "to": args.end})
    if reply.status not in (200, 303):
        raise refused(reply)
    if args.output is not None:
        with args.output.open("wb") as f:
            size = f.write(reply.body) if reply.status == 200 else download(reply.headers["location"], f)
        print(f"Exported {size} bytes to {args.output}.", file=sys.stderr)
    elif reply.status == 200:
        out.write(reply.body.decode())
    else:
        held = io.BytesIO()
        download(reply.headers["location"], held)
        out.write(held.getvalue().decode())
    return OK


def _table(out: IO[str], head: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(str(r[i])) for r in (head, *rows)) for i in range(len(head))]
    for row in (head, *rows):
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip(), file=out)
