"""Query-string parsing: every malformed parameter is a 400 with a readable detail."""

from datetime import UTC, datetime
from uuid import UUID

import falcon

from application.errors import BadRequestError
from application.queries.dataset import ItemFilter, Page

SUBSETS = ("unassigned", "training", "validation", "testing")


def page(req: falcon.Request) -> Page:
    return Page(offset=integer(req, "offset", 0, 0, 10**9), limit=integer(req, "limit", 100, 1, 1000))


def integer(req: falcon.Request, name: str, default: int, low: int, high: int) -> int:
    raw = req.get_param(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequestError(f"Query parameter '{name}' must be an integer.") from None
    if not low <= value <= high:
        raise BadRequestError(f"Query parameter '{name}' must be between {low} and {high}.")
    return value


def boolean(req: falcon.Request, name: str) -> bool | None:
    raw = req.get_param(name)
    if raw is None:
        return None
    if raw.lower() not in ("true", "false", "1", "0"):
        raise BadRequestError(f"Query parameter '{name}' must be true or false.")
    return raw.lower() in ("true", "1")


def moment(raw: str | None, name: str) -> datetime | None:
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequestError(f"'{name}' must be an ISO 8601 date-time, e.g. 2026-11-27T12:00:00Z.") from None
    if value.tzinfo is None:
        raise BadRequestError(f"'{name}' needs a time zone, e.g. 2026-11-27T12:00:00Z.")
    return value


def iso(req: falcon.Request, name: str) -> str | None:
    """An instant as stored timestamps are written (UTC), so that they compare as strings."""
    value = moment(req.get_param(name), name)
    return value.astimezone(UTC).isoformat() if value else None


def id_list(raw: str | list[str] | None, name: str) -> tuple[str, ...]:
    values = _split(raw)
    for value in values:
        try:
            UUID(value)
        except ValueError:
            raise BadRequestError(f"'{name}' must be a comma-separated list of ids; '{value}' is not one.") from None
    return tuple(str(UUID(v)) for v in values)


def _split(raw: str | list[str] | None) -> tuple[str, ...]:
    if raw is None:
        return ()
    parts = raw if isinstance(raw, list) else [raw]
    return tuple(p.strip() for part in parts for p in part.split(",") if p.strip())


def item_filter(req: falcon.Request) -> ItemFilter:
    subset = req.get_param("subset")
    if subset is not None and subset not in SUBSETS:
        raise BadRequestError(f"Query parameter 'subset' must be one of {', '.join(SUBSETS)}.")
    sort = req.get_param("sort") or "created_at"
    if sort not in ("created_at", "-created_at"):
        raise BadRequestError("Query parameter 'sort' must be created_at or -created_at.")
    return ItemFilter(annotated=boolean(req, "annotated"), label_ids=id_list(req.get_param("labels"), "labels"),
                      tags=_split(req.get_param("tags")), subset=subset, created_after=iso(req, "created_after"),
                      created_before=iso(req, "created_before"), sort=sort)


def filter_from_body(body: dict) -> ItemFilter:
    """The same filter, given as a JSON object (views: add or remove items by filter)."""
    return ItemFilter(annotated=body.get("annotated"), label_ids=tuple(str(i) for i in body.get("labels", ())),
                      tags=tuple(body.get("tags", ())), subset=body.get("subset"),
                      created_after=_utc(body.get("created_after")), created_before=_utc(body.get("created_before")))


def _utc(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None
