"""Lists a page at a time: the database filters, counts and slices, so a page costs two queries."""

from flask import request, url_for
from flask_sqlalchemy.pagination import Pagination

from portal.extensions import db

PER_PAGE = 50


def page_of(statement, per_page: int = PER_PAGE) -> Pagination:
    """The requested page (``?page=N``) of a SELECT; a page past the end is empty, never an error."""
    page = request.args.get("page", default=1, type=int)
    return db.paginate(statement, page=max(page, 1), per_page=per_page, error_out=False, count=True)


def page_url(page: int) -> str:
    """This page's URL with its filters kept and another page number."""
    args = request.args.to_dict()
    args["page"] = page
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def init_app(app) -> None:
    app.jinja_env.globals["page_url"] = page_url
