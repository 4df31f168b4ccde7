"""Bounded cursor paging: a walk over `has_more` pages that stops on its own.

A server may answer `has_more: true` forever: with an empty page, with ids it already sent, or
with a cursor that does not move. `PageWalk` notices each of these (and a page budget) and
stops with one line saying why, instead of requesting the same page again and again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

MAX_PAGES = 20


@dataclass
class PageWalk:
    """Decides after each page whether to ask for the next one."""

    what: str  # "events", "checkpoints", "jobs": named in the stop message
    max_pages: int = MAX_PAGES
    pages: int = 0
    seen: set[str] = field(default_factory=set)
    stopped: str | None = None
    """Why the walk stopped early (one line), or None when the server said it was done."""

    def next_cursor(self, ids: Sequence[str], has_more: bool) -> str | None:
        """Record a page; the `after` cursor for the next page, or None to stop."""
        self.pages += 1
        fresh = [i for i in ids if i not in self.seen]
        repeated = len(fresh) < len(ids)
        self.seen.update(ids)
        if not has_more:
            return None
        if not ids:
            return self._stop(f"sent an empty page of {self.what} that says there are more")
        if repeated:  # the cursor (the last id) did not move past what was sent
            return self._stop(f"sent {self.what} it had already sent (the cursor did not move)")
        if self.pages >= self.max_pages:
            return self._stop(f"still had more after {self.pages} pages")
        return ids[-1]

    def _stop(self, why: str) -> str | None:
        """Record why the walk stops; None, the cursor that ends it."""
        self.stopped = f"stopped paging {self.what}: the server {why}"
        return None
