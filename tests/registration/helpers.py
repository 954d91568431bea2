"""A guest, through the test client: the public page, registering, paying."""

import re

from portal.extensions import db
from portal.trainings.models import TrainingSession
from tests.conftest import csrf_from


def register(client, token, name="Gina Guest", email="guest@example.com", waitlist=False, **extra):
    page = client.get(f"/s/{token}")
    data = {"name": name, "email": email, "csrf_token": csrf_from(page.text), **extra}
    if waitlist:
        data["waitlist"] = "1"
    return client.post(f"/s/{token}/register", data=data)


def manage_path(response) -> str:
    location = response.headers["Location"]
    return re.sub(r"/pay$", "", location)


def pay(client, manage, nonce="fake-valid-visa-nonce", **extra):
    page = client.get(f"{manage}/pay")
    return client.post(
        f"{manage}/pay", data={"payment_method_nonce": nonce, "csrf_token": csrf_from(page.text), **extra}
    )


def apply_coupon(client, manage, code, htmx=False):
    page = client.get(f"{manage}/pay")
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(
        f"{manage}/coupon", data={"code": code, "csrf_token": csrf_from(page.text)}, headers=headers
    )


def status_of(client, manage) -> str:
    page = client.get(manage, follow_redirects=True).text
    return re.search(r'id="registration-status" data-status="([a-z_]+)"', page).group(1)


def seats_taken(training_id) -> int:
    return db.session.get(TrainingSession, training_id).seats_taken
