"""Public session pages, reached through an unguessable link (registration comes later)."""

from flask import Blueprint, abort, render_template

from portal.trainings import services
from portal.trainings.status import SessionStatus

bp = Blueprint("registration", __name__)


@bp.route("/s/<token>")
def public_session(token: str):
    training = services.public_session(token)
    if training is None or training.status == SessionStatus.DRAFT:
        abort(404)
    if training.is_cancelled:
        return render_template("registration/cancelled.html", training=training), 410
    return render_template(
        "registration/session.html", training=training, seats_left=services.seats_left(training)
    )
