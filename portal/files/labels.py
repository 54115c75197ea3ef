"""A file's next tags and note from an edit: replace, add, remove. Pure.

One rule for every caller: the detail's form replaces both (``tags``,
``notes``), a bulk action adds or removes tags on many files (``add``,
``remove``) and leaves each file's other tags and note alone. Tags follow the
upload's rules (:func:`portal.files.upload_policy.parse_tags`: trimmed,
lower-cased, length and count limits), so a label typed here equals one
typed at upload.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from portal.files.upload_policy import clean_notes, parse_tags


class InvalidLabels(ValueError):
    """Tags or a note the rules refuse; the message says which and why."""


@dataclass(frozen=True)
class LabelEdit:
    """What to change: ``tags`` (None: keep) first, then ``remove``, then ``add``; ``notes`` (None: keep)."""

    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()
    tags: tuple[str, ...] | None = None
    notes: str | None = None

    @classmethod
    def of(cls, *, add: str | Iterable[str] = (), remove: str | Iterable[str] = (),
           tags: str | Iterable[str] | None = None, notes: str | None = None) -> LabelEdit:
        """The edit, each part normalised as at upload.

        Raises
        ------
        InvalidLabels
            When a tag is too long or holds other characters, there are too
            many, or the note is too long.
        """
        try:
            return cls(parse_tags(add), parse_tags(remove), None if tags is None else parse_tags(tags),
                       None if notes is None else clean_notes(notes))
        except ValueError as e:
            raise InvalidLabels(str(e)) from e

    def apply(self, tags: tuple[str, ...], notes: str) -> tuple[tuple[str, ...], str]:
        """A file's tags and note after this edit, existing tags first in their order.

        Raises
        ------
        InvalidLabels
            When the file would hold more tags than the limit.
        """
        kept = [t for t in (tags if self.tags is None else self.tags) if t not in self.remove]
        try:
            result = parse_tags([*kept, *self.add])
        except ValueError as e:
            raise InvalidLabels(str(e)) from e
        return result, notes if self.notes is None else self.notes
