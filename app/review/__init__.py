"""The desk's review of synced rounds (issue 5, items 7 and 9): filters, a keyset-paged list of
findings, counts, 'reviewed' marks, comments, route corrections and the CSV export.

Everything here works without a request, on a session and a user.

Order: newest round first (the round's date, then the later round), and within a round the
findings in the order they were recorded. A page is continued with the id of its last finding
(`before`): no OFFSET, so a deep page costs what the first one does. The indexes on `round`
(ix_round_review*) hold every column a filter looks at, so a page or a count walks one index in
order and stops as soon as it has enough; counts stop at COUNT_CAP ("1000+").
"""
from ..refusals import NotVisible
from ..web import MAX_RANGE_DAYS
from .export import csv_header, export_filename, export_rows, place_of, place_text
from .marks import (
    add_comment,
    correct_route,
    finding_for,
    mark_reviewed,
    unmark_reviewed,
)
from .queries import (
    COMMENT_MAX,
    COUNT_CAP,
    EXPORT_BATCH,
    MAX_MARKED_AT_ONCE,
    PAGE_SIZE,
    ROUTE_CHOICES,
    Count,
    FilterChoices,
    FilterError,
    ReviewCounts,
    ReviewError,
    ReviewFilter,
    ReviewPage,
    Selection,
    filter_choices,
    load_findings,
    page_ids,
    parse_cursor,
    review_counts,
    review_page,
    select_findings,
    with_cursor,
)

__all__ = [
    "COMMENT_MAX", "COUNT_CAP", "EXPORT_BATCH", "MAX_MARKED_AT_ONCE", "MAX_RANGE_DAYS", "PAGE_SIZE", "ROUTE_CHOICES",
    "Count", "FilterChoices", "FilterError", "NotVisible", "ReviewCounts", "ReviewError", "ReviewFilter", "ReviewPage",
    "Selection", "add_comment", "correct_route", "csv_header", "export_filename", "export_rows", "filter_choices",
    "finding_for", "load_findings", "mark_reviewed", "page_ids", "parse_cursor", "place_of", "place_text",
    "review_counts", "review_page", "select_findings", "unmark_reviewed", "with_cursor",
]
