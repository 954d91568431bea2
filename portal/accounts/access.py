"""Route guards: anonymous users go to the login page; everyone else without access gets 404."""

from functools import wraps

from flask import abort
from flask_login import current_user, login_required


def admin_required(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            abort(404)
        return view(*args, **kwargs)

    return wrapped


def can_manage(training) -> bool:
    return current_user.is_admin or training.organizer_id == current_user.id
