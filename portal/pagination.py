"""Lists a page at a time: the database filters, counts and slices, so a page costs two queries."""

from dataclasses import dataclass

from flask import current_app, request, url_for
from sqlalchemy import func, select

from portal.extensions import db

# Past this, a page number is nonsense (and ``page * per_page`` could overflow the database's integer).
MAX_PAGE = 1_000_000


@dataclass(frozen=True)
class Page:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return min(self.page - 1, self.pages)

    @property
    def next_num(self) -> int:
        return self.page + 1

    def __iter__(self):
        return iter(self.items)


def requested_page() -> int:
    return min(max(request.args.get("page", default=1, type=int), 1), MAX_PAGE)


def page_of(statement, per_page: int | None = None, rows: bool = False) -> Page:
    """The requested page (``?page=N``) of a SELECT; a page past the end is empty, never an error.

    Items are ORM objects (the first column), or whole rows with ``rows=True`` (aggregates, unions).
    """
    per_page = per_page or current_app.config["PAGE_SIZE"]
    page = requested_page()
    total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    result = db.session.execute(statement.limit(per_page).offset((page - 1) * per_page))
    items = list(result.all() if rows else result.unique().scalars())
    return Page(items=items, page=page, per_page=per_page, total=total or 0)


def page_url(page: int) -> str:
    """This page's URL with its filters kept and another page number."""
    args = request.args.to_dict()
    args.update(request.view_args or {})  # the path's own values win over look-alike query arguments
    args["page"] = page
    return url_for(request.endpoint, **args)


def init_app(app) -> None:
    app.jinja_env.globals["page_url"] = page_url
