"""The benchmark's scenarios, as Locust users (``bench/run.py`` starts one kind per run).

What each one measures is the request named in ``bench/run.py``'s scenario table;
the data they use (tokens, accounts) comes from the JSON file ``BENCH_DATA`` names.
"""

import itertools
import json
import os
import re
import time
from pathlib import Path

import requests
from locust import FastHttpUser, constant_throughput, events, task

DATA = json.loads(Path(os.environ["BENCH_DATA"]).read_text()) if os.environ.get("BENCH_DATA") else {}
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_numbers = itertools.count()


def csrf_from(html: str) -> str:
    match = CSRF.search(html)
    if not match:
        raise ValueError("no CSRF token on the page")
    return match.group(1)


class Hello(FastHttpUser):
    @task
    def hello(self):
        self.client.get("/bench/hello", name="hello")


class PublicSessionPage(FastHttpUser):
    @task
    def public_page(self):
        self.client.get(f"/s/{DATA['public_token']}", name="public session page")


def log_in(host: str, email: str) -> tuple[str, str]:
    """The organizer's session cookie header and CSRF token, from one real login.

    Done once before the clock starts (``test_start``): hashing a password is slow by
    design, and sixteen logins inside the measured window would be counted against
    the estimate fragment.
    """
    with requests.Session() as browser:
        page = browser.get(f"{host}/login", timeout=30)
        browser.post(
            f"{host}/login",
            data={"email": email, "password": DATA["password"], "csrf_token": csrf_from(page.text)},
            timeout=30,
        ).raise_for_status()
        form = browser.get(f"{host}/sessions/new", timeout=30)
        form.raise_for_status()
        cookie = "; ".join(f"{name}={value}" for name, value in browser.cookies.items())
        return cookie, csrf_from(form.text)


_organizer: dict[str, str] = {}


@events.test_start.add_listener
def _log_in_organizer(environment, **_kwargs):
    if any(cls.__name__ == "EstimateFragment" for cls in environment.user_classes):
        _organizer["cookie"], _organizer["csrf"] = log_in(environment.host, DATA["organizer_email"])


ESTIMATE_FORM = {
    "intent": "estimate",
    "title": "Negotiation basics",
    "start": "2027-03-01T10:00",
    "timezone": "Europe/Paris",
    "duration_minutes": "90",
    "capacity": "40",
    "expected_attendees": "25",
    "audio": "toll_free",
    "teleconference_participants": "12",
    "session_fee": "0",
}


class EstimateFragment(FastHttpUser):
    """As fast as it goes (throughput), or at a fixed rate (``BENCH_RATE`` per user per second)."""

    if os.environ.get("BENCH_RATE"):
        wait_time = constant_throughput(float(os.environ["BENCH_RATE"]))

    @task
    def estimate(self):
        self.client.post(
            "/sessions/new",
            data={**ESTIMATE_FORM, "csrf_token": _organizer["csrf"]},
            headers={"HX-Request": "true", "Cookie": _organizer["cookie"]},
            name="estimate fragment",
        )


class PaymentPageWithCoupon(FastHttpUser):
    def on_start(self):
        self.tokens = itertools.cycle(DATA["pay_tokens"][next(_numbers) % 7 :] + DATA["pay_tokens"])

    @task
    def payment_page(self):
        with self.client.get(
            f"/r/{next(self.tokens)}/pay", name="payment page with coupon", catch_response=True
        ) as response:
            if 'data-amount="36.75"' not in response.text:
                response.failure("the coupon's amount is not on the page")


class RegistrationAndPayment(FastHttpUser):
    """A guest's whole path; the flow's own time is reported as "registration and payment"."""

    @task
    def register_and_pay(self):
        number = next(_numbers)
        started = time.perf_counter()
        public = self.client.get(f"/s/{DATA['flow_token']}", name="flow: public page")
        registered = self.client.post(
            f"/s/{DATA['flow_token']}/register",
            data={
                "name": f"Flow {number}",
                "email": f"flow{number}-{os.getpid()}@bench.example",
                "csrf_token": csrf_from(public.text),
            },
            name="flow: register",
            allow_redirects=False,
        )
        # Registering redirects to the registration, which sends a guest who owes money to /pay.
        pay_path = registered.headers.get("Location", "").split("?")[0].rstrip("/") + "/pay"
        page = self.client.get(pay_path, name="flow: payment page")
        paid = self.client.post(
            pay_path,
            data={"payment_method_nonce": "fake-valid-visa-nonce", "csrf_token": csrf_from(page.text)},
            name="flow: pay",
            allow_redirects=False,
        )
        confirmation = self.client.get(paid.headers.get("Location", "/"), name="flow: confirmation")
        ok = 'data-status="confirmed"' in confirmation.text
        events.request.fire(
            request_type="FLOW",
            name="registration and payment",
            response_time=(time.perf_counter() - started) * 1000,
            response_length=0,
            exception=None if ok else RuntimeError("not confirmed"),
            context={},
        )


class SeatRush(FastHttpUser):
    """Guests reserving seats (a held seat each) on one session, as fast as they can."""

    def on_start(self):
        page = self.client.get(f"/s/{DATA['rush_token']}", name="rush: public page")
        self.token = csrf_from(page.text)

    @task
    def reserve(self):
        number = next(_numbers)
        with self.client.post(
            f"/s/{DATA['rush_token']}/register",
            data={
                "name": f"Rush {number}",
                "email": f"rush{number}-{os.getpid()}@bench.example",
                "csrf_token": self.token,
            },
            name="seat reservation",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 303:
                response.failure(f"status {response.status_code}")
