"""How an HTTP source hands out its records page after page: one small object per style, as dlt's
rest_api paginators. A paginator sets its parameters on the first request and, after each page, either
moves them on or says the listing is complete.

A page shorter than the requested size is *not* taken as the end: servers cap page sizes silently,
and stopping early would lose records. The end is an empty page, a total reached, `has_more` false,
or no next cursor.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

__all__ = ["Pagination", "Paginator", "dig"]

_MISSING = object()


def dig(document: Any, dotted: str | None, default: Any = _MISSING) -> Any:
    """`document["data"]["items"]` for "data.items"; `default` (or KeyError) when a step is missing."""
    for part in dotted.split(".") if dotted else []:
        if isinstance(document, dict) and part in document:
            document = document[part]
        elif isinstance(document, list) and part.isdigit() and int(part) < len(document):
            document = document[int(part)]
        elif default is not _MISSING:
            return default
        else:
            raise KeyError(part)
    return document


class Pagination(BaseModel):
    """`total_path` follows dlt: the number of pages for `page`, the number of items for `offset`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["page", "offset", "cursor", "none"] = "none"
    page_param: str = "page"
    offset_param: str = "offset"
    size_param: str | None = None
    size: int | None = None
    start: int | None = None
    total_path: str | None = None
    cursor_param: str = "cursor"
    next_cursor_path: str | None = None
    has_more_path: str | None = None
    max_pages: int | None = None


class Paginator:
    def __init__(self, spec: Pagination):
        self.spec = spec
        default_start = 1 if spec.type == "page" else 0
        self.position: Any = spec.start if spec.start is not None else default_start
        self.pages = 0

    def first(self, query: dict[str, Any], *, size: int | None = None) -> None:
        spec = self.spec
        size = size or spec.size
        if spec.size_param and size:
            query[spec.size_param] = size
        if spec.type == "page":
            query[spec.page_param] = self.position
        elif spec.type == "offset":
            query[spec.offset_param] = self.position

    def advance(self, query: dict[str, Any], body: Any, count: int) -> bool:
        """Move `query` to the next page; False when the listing is complete."""
        spec = self.spec
        self.pages += 1
        if spec.type == "none" or (spec.max_pages is not None and self.pages >= spec.max_pages):
            return False
        if spec.has_more_path is not None and not dig(body, spec.has_more_path, False):
            return False
        if spec.type == "cursor":
            following = dig(body, spec.next_cursor_path or "next_cursor", None)
            if following in (None, ""):
                return False
            query[spec.cursor_param] = following
            return True
        if count == 0:
            return False
        total = dig(body, spec.total_path, None) if spec.total_path else None
        if spec.type == "page":
            self.position += 1
            first_page = spec.start if spec.start is not None else 1
            if isinstance(total, int) and self.position >= first_page + total:
                return False
            query[spec.page_param] = self.position
        else:
            self.position += count
            if isinstance(total, int) and self.position >= total:
                return False
            query[spec.offset_param] = self.position
        return True
