"""``python -m devstack.backfill``: give file items written before the upload-time index its keys.

Run it once after deploying the template that added ``by_upload_time``
(until then the analysts' Files view and the export miss those files). It
is idempotent: a second run, or one beside the running stack, changes
nothing twice. The stack is the one the environment names
(``DOCPORTAL_TABLE`` or ``DOCPORTAL_STACK``, AWS credentials, as for the
portal); ``--local`` attaches to what ``make run`` runs (its ``stack.json``),
which ``make run`` also backfills by itself when it adds the index to a
saved table.
"""

from __future__ import annotations

import argparse
import os
import sys

from common import aws
from common.settings import Settings
from common.upload_index import Backfilled, backfill


def _say(done: Backfilled) -> None:
    print(f"  {done.scanned:,} items scanned, {done.updated:,} files indexed, "
          f"{done.skipped:,} left as they were", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Backfill the stack's table; prints progress after every page and the totals at the end."""
    parser = argparse.ArgumentParser(prog="python -m devstack.backfill", description=__doc__.splitlines()[0])
    parser.add_argument("--local", action="store_true", help="the stack `make run` runs (.local/stack.json)")
    parser.add_argument("--page-size", type=int, default=500, help="items per scanned page (default 500)")
    args = parser.parse_args(argv)
    if args.local:
        from devstack.run import local_env, state_dir

        settings = Settings.load(state_dir(Settings.from_env(need_stack=False)) / "stack.json")
        os.environ.update(local_env(settings.endpoint_url) | settings.to_env())
        aws.reset()
    else:
        settings = Settings.from_env()
    print(f"Backfilling the upload-time index of {settings.table} …", file=sys.stderr, flush=True)
    done = backfill(aws.client("dynamodb"), settings.table, page_size=args.page_size, report=_say)
    print(f"done: {done.updated:,} files indexed, {done.skipped:,} left as they were, "
          f"{done.scanned:,} items scanned")
    return 0


if __name__ == "__main__":
    sys.exit(main())
