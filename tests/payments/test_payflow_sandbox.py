"""The offline Payflow Pro sandbox over real HTTP: the name-value API, the hosted checkout, silent posts,
duplicate detection, faults, concurrency, persistence and the command line.

Ids made here (secure token ids, request ids, references) are random letters and digits, never UUIDs,
so that the card-number scan cannot trip over a random run of digits.
"""

import logging
import os
import re
import secrets
import signal
import socketserver
import string
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests

from portal.payments import nvp
from portal.payments.payflow_sandbox import CARDS, CheckoutRefused, PayflowSandbox
from tests.security.card_scan import scan_text

ACCOUNT = {"partner": "PayPal", "vendor": "test_vendor", "user": "test_user", "password": "test_password"}
CREDS = {"PARTNER": "PayPal", "VENDOR": "test_vendor", "USER": "test_user", "PWD": "test_password"}
CONTROL_AUTH = ("test_user", "test_password")
TITLE = "PayPal Payflow checkout (offline sandbox)"


# --- fixtures -------------------------------------------------------------------------------------


def new_session() -> requests.Session:
    """A session that ignores proxy settings from the environment: the sandbox is on loopback."""
    session = requests.Session()
    session.trust_env = False
    return session


class Receiver:
    """A tiny merchant endpoint recording what is posted to it; paths ending in /500 answer 500."""

    def __init__(self):
        self.posts: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.posts.append(
                        {"path": self.path, "content_type": self.headers.get("Content-Type"), "body": body}
                    )
                self.send_response(500 if self.path.endswith("/500") else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def server_bind(self):  # skips HTTPServer's FQDN lookup, which can stall without DNS
                socketserver.TCPServer.server_bind(self)

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def received(self, token_id: str) -> list[dict]:
        """The form fields of every post carrying this SECURETOKENID."""
        with self.lock:
            forms = [dict(urllib.parse.parse_qsl(p["body"].decode())) for p in self.posts]
        return [form for form in forms if form.get("SECURETOKENID") == token_id]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture(scope="module")
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture(scope="module")
def data_path(tmp_path_factory):
    return tmp_path_factory.mktemp("payflow") / "payflow.db"


@pytest.fixture(scope="module")
def sandbox(data_path):
    with PayflowSandbox(port=0, data_path=str(data_path), currencies=("USD", "EUR"), **ACCOUNT) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def client():
    with new_session() as session:
        yield session


@pytest.fixture(autouse=True)
def _no_faults_left(request):
    yield
    if "sandbox" in request.fixturenames:
        request.getfixturevalue("sandbox").clear_faults()


# --- helpers --------------------------------------------------------------------------------------


def new_request_id() -> str:
    return "req-" + secrets.token_urlsafe(15)


def new_token_id() -> str:
    """36 characters, as Payflow wants; not a UUID, whose digit groups can pass for a card number."""
    return "tok-" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))


def new_ref(prefix: str) -> str:
    return f"{prefix}-{secrets.token_urlsafe(6)}"


def post_api(client, sandbox, fields, request_id=None, creds=CREDS):
    headers = {"Content-Type": "text/namevalue", "X-VPS-REQUEST-ID": request_id or new_request_id()}
    return client.post(sandbox.url + "/", data=nvp.encode({**creds, **fields}), headers=headers, timeout=10)


def api(client, sandbox, fields, request_id=None, creds=CREDS) -> dict[str, str]:
    response = post_api(client, sandbox, fields, request_id, creds)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/namevalue"
    return nvp.decode(response.content)


@dataclass(frozen=True)
class Token:
    id: str
    secret: str
    custref: str
    invnum: str


def token_fields(receiver, token_id=None, amount="12.50", silent_path="/silent", **extra) -> dict:
    return {
        "TRXTYPE": "S",
        "CREATESECURETOKEN": "Y",
        "SECURETOKENID": token_id or new_token_id(),
        "AMT": amount,
        "CURRENCY": "USD",
        "CUSTREF": new_ref("order"),
        "INVNUM": new_ref("inv"),
        "TENDER": "C",
        "RETURNURL": receiver.url + "/return",
        "CANCELURL": receiver.url + "/cancel",
        "ERRORURL": receiver.url + "/error",
        "SILENTPOSTURL": receiver.url + silent_path,
        **extra,
    }


def create_token(client, sandbox, receiver, **kwargs) -> Token:
    fields = token_fields(receiver, **kwargs)
    answer = api(client, sandbox, fields)
    assert answer["RESULT"] == "0", answer
    return Token(fields["SECURETOKENID"], answer["SECURETOKEN"], fields["CUSTREF"], fields["INVNUM"])


def checkout_page(client, sandbox, token: Token):
    return client.get(
        sandbox.url + "/checkout", params={"SECURETOKEN": token.secret, "SECURETOKENID": token.id}, timeout=10
    )


def submit(client, sandbox, token: Token, card: str):
    form = {"SECURETOKEN": token.secret, "SECURETOKENID": token.id, "card": card}
    return client.post(sandbox.url + "/checkout", data=form, timeout=10)


def sale(client, sandbox, receiver, amount="20.00", card="visa", settle=False, **kwargs) -> str:
    """A sale paid on the hosted page (through ``pay``); its PNREF."""
    token = create_token(client, sandbox, receiver, amount=amount, **kwargs)
    pnref = sandbox.pay(token.id, card)["PNREF"]
    if settle:
        sandbox.settle(pnref)
    return pnref


def rows(sandbox, **match) -> list[dict]:
    return [t for t in sandbox.transactions() if all(t[k] == v for k, v in match.items())]


def at_once(*calls) -> list:
    """Run the calls in threads released together; their results, in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def control(client, sandbox, verb, path, json=None, auth=CONTROL_AUTH):
    return client.request(verb, sandbox.url + path, json=json, auth=auth, timeout=10)


class Page(HTMLParser):
    """What the tests read from a page: language, title, headings, labels, forms, scripts, ids."""

    _TEXT_TAGS = ("title", "h1", "label", "button", "option", "script", "p")

    def __init__(self, html: str):
        super().__init__()
        self.lang = None
        self.title = ""
        self.h1: list[str] = []
        self.labels: dict[str, str] = {}
        self.forms: list[dict] = []
        self.scripts: list[tuple[str | None, str]] = []
        self.alerts: list[str] = []
        self.ids: list[str] = []
        self._tag = self._text = None
        self._attrs: dict = {}
        self._optgroup = self._select = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "html":
            self.lang = a.get("lang")
        elif tag == "form":
            form = {"action": a.get("action"), "method": a.get("method"), "id": a.get("id")}
            self.forms.append({**form, "hidden": {}, "selects": {}, "buttons": []})
        elif tag == "input" and a.get("type") == "hidden":
            self.forms[-1]["hidden"][a["name"]] = a.get("value", "")
        elif tag == "select":
            self.forms[-1]["selects"][a["name"]] = {"id": a.get("id"), "options": []}
            self._select = self.forms[-1]["selects"][a["name"]]
        elif tag == "optgroup":
            self._optgroup = a.get("label")
        if tag in self._TEXT_TAGS:
            self._tag, self._text, self._attrs = tag, [], a

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag != self._tag:
            return
        text = " ".join("".join(self._text).split())
        if tag == "title":
            self.title = text
        elif tag == "h1":
            self.h1.append(text)
        elif tag == "label":
            self.labels[self._attrs.get("for")] = text
        elif tag == "button":
            self.forms[-1]["buttons"].append(text)
        elif tag == "option":
            self._select["options"].append((self._optgroup, self._attrs["value"], text))
        elif tag == "script":
            self.scripts.append((self._attrs.get("src"), text))
        elif tag == "p" and self._attrs.get("role") == "alert":
            self.alerts.append(text)
        self._tag = self._text = None


# --- the name-value API: secure tokens ------------------------------------------------------------


def test_a_secure_token_is_created_without_moving_money(client, sandbox, receiver):
    fields = token_fields(receiver, amount="12.50")
    before = sandbox.transactions()
    answer = api(client, sandbox, fields)
    assert answer == {
        "RESULT": "0",
        "RESPMSG": "Approved",
        "SECURETOKEN": answer["SECURETOKEN"],
        "SECURETOKENID": fields["SECURETOKENID"],
    }
    assert re.fullmatch(r"[A-Za-z0-9]{32}", answer["SECURETOKEN"])
    assert sandbox.transactions() == before


@pytest.mark.parametrize(
    ("change", "result", "respmsg"),
    [
        ({"SECURETOKENID": None}, "7", "Field format error: SECURETOKENID"),
        ({"SECURETOKENID": "T" * 35}, "7", "Field format error: SECURETOKENID"),
        ({"SECURETOKENID": "T" * 37}, "7", "Field format error: SECURETOKENID"),
        ({"SECURETOKENID": "T" * 35 + "_"}, "7", "Field format error: SECURETOKENID"),
        ({"AMT": None}, "4", "Invalid amount"),
        ({"AMT": "0.00"}, "4", "Invalid amount"),
        ({"AMT": "-1.00"}, "4", "Invalid amount"),
        ({"AMT": "12.5"}, "4", "Invalid amount"),
        ({"AMT": "12.500"}, "4", "Invalid amount"),
        ({"AMT": "12"}, "4", "Invalid amount"),
        ({"AMT": "ten"}, "4", "Invalid amount"),
        ({"CURRENCY": "GBP"}, "7", "Field format error: CURRENCY"),
        ({"CURRENCY": "usd"}, "7", "Field format error: CURRENCY"),
        ({"TENDER": "P"}, "7", "Field format error: TENDER"),
        ({"RETURNURL": None}, "7", "Field format error: RETURNURL"),
        ({"CANCELURL": "javascript:alert(1)"}, "7", "Field format error: CANCELURL"),
        ({"SILENTPOSTURL": "ftp://example.test/x"}, "7", "Field format error: SILENTPOSTURL"),
        ({"ERRORURL": "/relative"}, "7", "Field format error: ERRORURL"),
    ],
)
def test_secure_token_errors(client, sandbox, receiver, change, result, respmsg):
    fields = {k: v for k, v in {**token_fields(receiver), **change}.items() if v is not None}
    assert api(client, sandbox, fields) == {"RESULT": result, "RESPMSG": respmsg}
    if "SECURETOKENID" not in change:  # no token was kept: its id is still free
        assert api(client, sandbox, token_fields(receiver, fields["SECURETOKENID"]))["RESULT"] == "0"


def test_optional_token_fields_and_another_accepted_currency(client, sandbox, receiver):
    fields = token_fields(receiver, amount="7.05", CURRENCY="EUR")
    for name in ("TENDER", "CUSTREF", "INVNUM", "ERRORURL", "SILENTPOSTURL"):
        del fields[name]
    answer = api(client, sandbox, fields)
    assert answer["RESULT"] == "0"
    paid = sandbox.pay(fields["SECURETOKENID"], "visa")
    assert (paid["AMT"], paid["CURRENCY"]) == ("7.05", "EUR")
    assert "CUSTREF" not in paid and "INVNUM" not in paid
    assert [p for p in sandbox.silent_posts() if p["fields"]["PNREF"] == paid["PNREF"]] == []


def test_a_secure_token_id_serves_once(client, sandbox, receiver):
    fields = token_fields(receiver)
    assert api(client, sandbox, fields)["RESULT"] == "0"
    assert api(client, sandbox, {**fields, "AMT": "1.00"}) == {
        "RESULT": "7",
        "RESPMSG": "Field format error: Secure Token ID already been used",
    }


def test_a_direct_card_sale_is_refused(client, sandbox):
    before = sandbox.transactions()
    answer = api(
        client,
        sandbox,
        {"TRXTYPE": "S", "TENDER": "C", "ACCT": "4111111111111111", "EXPDATE": "1230", "AMT": "1.00"},
    )
    assert answer == {
        "RESULT": "7",
        "RESPMSG": "Field format error: this sandbox takes card details only on its hosted checkout page",
    }
    assert sandbox.transactions() == before


def test_an_unknown_transaction_type(client, sandbox):
    assert api(client, sandbox, {"TRXTYPE": "A", "AMT": "1.00"}) == {
        "RESULT": "3",
        "RESPMSG": "Invalid transaction type",
    }


# --- the name-value API: request checks -----------------------------------------------------------


def test_the_request_id_header_is_required(client, sandbox, receiver):
    fields = token_fields(receiver)
    response = client.post(
        sandbox.url + "/",
        data=nvp.encode({**CREDS, **fields}),
        headers={"Content-Type": "text/namevalue"},
        timeout=10,
    )
    assert response.status_code == 200
    assert nvp.decode(response.content) == {
        "RESULT": "7",
        "RESPMSG": "Field format error: X-VPS-REQUEST-ID missing",
    }
    assert api(client, sandbox, fields, request_id="R" * 33) == {
        "RESULT": "7",
        "RESPMSG": "Field format error: X-VPS-REQUEST-ID",
    }
    assert api(client, sandbox, fields, request_id="R" * 32)["RESULT"] == "0"  # nothing was kept before


@pytest.mark.parametrize("wrong", ["PARTNER", "VENDOR", "USER", "PWD"])
def test_wrong_credentials_fail_and_record_nothing(client, sandbox, receiver, wrong):
    fields = token_fields(receiver)
    request_id = new_request_id()
    answer = api(client, sandbox, fields, request_id, creds={**CREDS, wrong: "wrong"})
    assert answer == {"RESULT": "1", "RESPMSG": "User authentication failed"}
    answer = api(client, sandbox, fields, request_id, creds={k: v for k, v in CREDS.items() if k != wrong})
    assert answer == {"RESULT": "1", "RESPMSG": "User authentication failed"}
    answer = api(client, sandbox, fields, request_id)  # neither the token nor the request id was kept
    assert answer["RESULT"] == "0" and "DUPLICATE" not in answer


@pytest.mark.parametrize(
    ("body", "content_type", "respmsg"),
    [
        (b"TRXTYPE", "text/namevalue", "Field format error: the body is not name-value pairs"),
        (b"COMMENT1[40]=short", "text/namevalue", "Field format error: the body is not name-value pairs"),
        (
            b"TRXTYPE=I&ORIGID=X",
            "application/json",
            "Field format error: Content-Type must be text/namevalue",
        ),
    ],
)
def test_undecodable_requests(client, sandbox, body, content_type, respmsg):
    response = client.post(
        sandbox.url + "/",
        data=body,
        headers={"Content-Type": content_type, "X-VPS-REQUEST-ID": new_request_id()},
        timeout=10,
    )
    assert response.status_code == 200
    assert nvp.decode(response.content) == {"RESULT": "7", "RESPMSG": respmsg}


def test_values_with_separators_travel_with_length_tags(client, sandbox, receiver):
    token = create_token(client, sandbox, receiver, CUSTREF="a&b=c", INVNUM="inv&1")
    answer = api(client, sandbox, {"TRXTYPE": "I", "CUSTREF": "a&b=c"})
    assert answer["RESULT"] == "19"  # no sale yet
    sandbox.pay(token.id, "visa")
    answer = api(client, sandbox, {"TRXTYPE": "I", "CUSTREF": "a&b=c"})
    assert (answer["CUSTREF"], answer["INVNUM"]) == ("a&b=c", "inv&1")


# --- the hosted checkout page ---------------------------------------------------------------------


def test_the_checkout_page(client, sandbox, receiver):
    token = create_token(client, sandbox, receiver, amount="12.50")
    response = checkout_page(client, sandbox, token)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp
    assert f"form-action 'self' {receiver.url};" in csp
    page = Page(response.text)
    assert page.lang == "en"
    assert page.title == TITLE
    assert page.h1 == ["Pay 12.50 USD"]
    assert "12.50 USD" in response.text and token.custref in response.text
    assert len(page.ids) == len(set(page.ids))
    pay_form, cancel_form = page.forms
    assert (pay_form["method"], pay_form["action"]) == ("post", "/checkout")
    assert pay_form["hidden"] == {"SECURETOKEN": token.secret, "SECURETOKENID": token.id}
    select = pay_form["selects"]["card"]
    assert page.labels[select["id"]] == "Test card"
    assert pay_form["buttons"] == ["Pay"]
    options = select["options"]
    assert [key for _, key, _ in options] == list(CARDS)
    assert [group for group, _, _ in options] == ["Approved"] * 5 + ["Declined"] * 4
    assert options[0] == ("Approved", "visa", "Visa credit card •••• 1111 — approved")
    assert options[5] == ("Declined", "declined", "Card declined by the bank (Visa •••• 0002)")
    assert (cancel_form["method"], cancel_form["action"]) == ("post", receiver.url + "/cancel")
    assert cancel_form["hidden"] == {"SECURETOKEN": token.secret, "SECURETOKENID": token.id}
    assert cancel_form["buttons"] == ["Cancel and return to the merchant"]
    assert page.scripts == []
    assert scan_text(response.text, "the page") == []


def test_the_script_and_style_sheet(client, sandbox):
    script = client.get(sandbox.url + "/checkout.js", timeout=10)
    assert script.status_code == 200 and script.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert 'getElementById("return-to-merchant").submit()' in script.text
    style = client.get(sandbox.url + "/checkout.css", timeout=10)
    assert style.status_code == 200 and style.headers["Content-Type"] == "text/css; charset=utf-8"


def test_paying_with_an_approved_card(client, sandbox, receiver):
    token = create_token(client, sandbox, receiver, amount="12.50")
    response = submit(client, sandbox, token, "mastercard")
    assert response.status_code == 200
    (sale_row,) = rows(sandbox, secure_token_id=token.id)
    pnref = sale_row["pnref"]
    assert re.fullmatch(r"[A-Z0-9]{12}", pnref)
    (posted,) = receiver.received(token.id)
    assert re.fullmatch(r"\d{6}", posted["AUTHCODE"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", posted["TRANSTIME"])
    assert posted == {
        "RESULT": "0",
        "RESPMSG": "Approved",
        "PNREF": pnref,
        "AMT": "12.50",
        "CURRENCY": "USD",
        "SECURETOKEN": token.secret,
        "SECURETOKENID": token.id,
        "CUSTREF": token.custref,
        "INVNUM": token.invnum,
        "TRXTYPE": "S",
        "TENDER": "C",
        "CARDTYPE": "1",
        "ACCT": "4444",
        "AUTHCODE": posted["AUTHCODE"],
        "TRANSTIME": posted["TRANSTIME"],
    }
    with receiver.lock:
        (raw,) = [p for p in receiver.posts if token.id.encode() in p["body"]]
    assert (raw["path"], raw["content_type"]) == ("/silent", "application/x-www-form-urlencoded")
    (delivery,) = [d for d in sandbox.silent_posts() if d["fields"]["SECURETOKENID"] == token.id]
    assert (delivery["url"], delivery["status"], delivery["error"]) == (receiver.url + "/silent", 200, None)
    assert delivery["fields"] == posted
    assert {k: sale_row[k] for k in ("trxtype", "origid", "amount", "currency", "custref", "invnum")} == {
        "trxtype": "S",
        "origid": None,
        "amount": "12.50",
        "currency": "USD",
        "custref": token.custref,
        "invnum": token.invnum,
    }
    assert {
        k: sale_row[k] for k in ("result", "respmsg", "transstate", "card_type", "last4", "authcode")
    } == {
        "result": 0,
        "respmsg": "Approved",
        "transstate": 6,
        "card_type": "1",
        "last4": "4444",
        "authcode": posted["AUTHCODE"],
    }
    page = Page(response.text)
    assert page.lang == "en" and page.h1 == ["Payment approved"]
    assert page.title == f"Payment approved — {TITLE}"
    (back,) = page.forms
    assert (back["method"], back["action"], back["id"]) == (
        "post",
        receiver.url + "/return",
        "return-to-merchant",
    )
    assert back["hidden"] == posted
    assert back["buttons"] == ["Return to the merchant"]
    assert page.scripts == [("/checkout.js", "")]  # no inline script
    assert f"form-action {receiver.url};" in response.headers["Content-Security-Policy"]
    assert scan_text(response.text, "the page") == []


@pytest.mark.parametrize(
    ("card", "result", "respmsg", "last4"),
    [
        ("declined", "12", "Declined", "0002"),
        ("invalid_number", "23", "Invalid account number", "4241"),
        ("expired", "24", "Invalid expiration date", "0069"),
        ("fraud", "125", "Declined by Fraud Service", "0019"),
    ],
)
def test_paying_with_a_declined_card(client, sandbox, receiver, card, result, respmsg, last4):
    token = create_token(client, sandbox, receiver, amount="30.00")
    response = submit(client, sandbox, token, card)
    assert response.status_code == 200
    page = Page(response.text)
    assert page.h1 == [f"Payment declined: {respmsg}"]
    (posted,) = receiver.received(token.id)
    assert "AUTHCODE" not in posted
    assert {k: posted[k] for k in ("RESULT", "RESPMSG", "AMT", "CARDTYPE", "ACCT", "TRXTYPE")} == {
        "RESULT": result,
        "RESPMSG": respmsg,
        "AMT": "30.00",
        "CARDTYPE": "0",
        "ACCT": last4,
        "TRXTYPE": "S",
    }
    assert page.forms[0]["hidden"] == posted
    (row,) = rows(sandbox, secure_token_id=token.id)
    assert (row["result"], row["respmsg"], row["transstate"], row["authcode"]) == (
        int(result),
        respmsg,
        1,
        None,
    )
    # one transaction per token, declined or not
    assert Page(checkout_page(client, sandbox, token).text).h1 == ["This checkout has already been used"]


@pytest.mark.parametrize(
    ("card", "card_type", "last4"),
    [
        ("visa", "0", "1111"),
        ("mastercard", "1", "4444"),
        ("amex", "3", "8431"),
        ("discover", "2", "1117"),
        ("visa_debit", "0", "0004"),
    ],
)
def test_pay_drives_the_hosted_page_for_every_approved_card(
    client, sandbox, receiver, card, card_type, last4
):
    token = create_token(client, sandbox, receiver, amount="0.01")
    fields = sandbox.pay(token.id, card)
    assert (fields["RESULT"], fields["CARDTYPE"], fields["ACCT"], fields["AMT"]) == (
        "0",
        card_type,
        last4,
        "0.01",
    )
    assert receiver.received(token.id) == [fields]


def test_pay_refuses_unknown_cards_and_unusable_tokens(client, sandbox, receiver):
    token = create_token(client, sandbox, receiver)
    with pytest.raises(KeyError, match="unknown test card"):
        sandbox.pay(token.id, "platinum")
    with pytest.raises(CheckoutRefused, match="not valid") as refused:
        sandbox.pay(new_token_id(), "visa")
    assert refused.value.status == 404
    sandbox.pay(token.id, "visa")
    with pytest.raises(CheckoutRefused, match="already been used"):
        sandbox.pay(token.id, "visa")
    assert len(rows(sandbox, secure_token_id=token.id)) == 1


def test_a_used_token_shows_no_form_and_takes_no_second_payment(client, sandbox, receiver):
    token = create_token(client, sandbox, receiver)
    assert submit(client, sandbox, token, "visa").status_code == 200
    for response in (checkout_page(client, sandbox, token), submit(client, sandbox, token, "visa")):
        assert response.status_code == 410
        page = Page(response.text)
        assert page.h1 == ["This checkout has already been used"] and page.forms == []
    assert len(rows(sandbox, secure_token_id=token.id)) == 1
    assert len(receiver.received(token.id)) == 1


def test_an_expired_token_shows_no_form(client, sandbox, receiver):
    token = create_token(client, sandbox, receiver)
    assert checkout_page(client, sandbox, token).status_code == 200
    sandbox.expire_token(token.id)
    for response in (checkout_page(client, sandbox, token), submit(client, sandbox, token, "visa")):
        assert response.status_code == 410
        page = Page(response.text)
        assert page.h1 == ["This checkout has expired"] and page.forms == []
        assert page.lang == "en" and page.title == f"This checkout has expired — {TITLE}"
    assert rows(sandbox, secure_token_id=token.id) == []
    with pytest.raises(LookupError):
        sandbox.expire_token(new_token_id())


def test_tokens_expire_after_their_time_to_live(client, receiver):
    with PayflowSandbox(port=0, token_ttl=timedelta(milliseconds=300), **ACCOUNT) as short:
        token = create_token(client, short, receiver)
        assert checkout_page(client, short, token).status_code == 200
        deadline = time.monotonic() + 10  # the page is asked again until the 300 ms have passed
        while (response := checkout_page(client, short, token)).status_code == 200:
            assert time.monotonic() < deadline, "the token never expired"
        assert response.status_code == 410 and "This checkout has expired" in response.text


@pytest.mark.parametrize("wrong", ["id", "secret", "both"])
def test_an_unknown_token_is_not_found(client, sandbox, receiver, wrong):
    token = create_token(client, sandbox, receiver)
    token = Token(
        new_token_id() if wrong in ("id", "both") else token.id,
        "x" * 32 if wrong in ("secret", "both") else token.secret,
        token.custref,
        token.invnum,
    )
    for response in (checkout_page(client, sandbox, token), submit(client, sandbox, token, "visa")):
        assert response.status_code == 404
        page = Page(response.text)
        assert page.h1 == ["This checkout link is not valid"] and page.forms == []
    assert client.get(sandbox.url + "/checkout", timeout=10).status_code == 404


def test_an_unknown_card_shows_the_form_again(client, sandbox, receiver):
    token = create_token(client, sandbox, receiver)
    response = submit(client, sandbox, token, "platinum")
    assert response.status_code == 400
    page = Page(response.text)
    assert page.alerts == ["Choose one of the test cards."]
    assert page.forms[0]["buttons"] == ["Pay"]
    assert rows(sandbox, secure_token_id=token.id) == []
    assert submit(client, sandbox, token, "visa").status_code == 200


def test_a_failed_silent_post_changes_nothing_else(client, sandbox, receiver):
    refused = create_token(client, sandbox, receiver, SILENTPOSTURL="http://127.0.0.1:9/closed")
    assert submit(client, sandbox, refused, "visa").status_code == 200
    failing = create_token(client, sandbox, receiver, silent_path="/silent/500")
    assert submit(client, sandbox, failing, "visa").status_code == 200
    by_token = {d["fields"]["SECURETOKENID"]: d for d in sandbox.silent_posts()}
    assert by_token[refused.id]["status"] is None and by_token[refused.id]["error"]
    assert (by_token[failing.id]["status"], by_token[failing.id]["error"]) == (500, None)
    for token in (refused, failing):
        (row,) = rows(sandbox, secure_token_id=token.id)
        assert (row["result"], row["transstate"]) == (0, 6)


def test_unknown_routes_and_methods(client, sandbox):
    assert client.get(sandbox.url + "/nowhere", timeout=10).status_code == 404
    assert client.get(sandbox.url + "/", timeout=10).status_code == 405
    assert client.delete(sandbox.url + "/checkout", timeout=10).status_code == 405


# --- credits, voids, inquiries --------------------------------------------------------------------


def test_credit_rules(client, sandbox, receiver):
    pnref = sale(client, sandbox, receiver, amount="20.00")
    credit = {"TRXTYPE": "C", "ORIGID": pnref}
    assert api(client, sandbox, {**credit, "AMT": "5.00"}) == {
        "RESULT": "105",
        "RESPMSG": "Credit error: the sale is not settled",
    }
    sandbox.settle(pnref)
    first = api(client, sandbox, {**credit, "AMT": "5.00"})
    assert first == {"RESULT": "0", "PNREF": first["PNREF"], "RESPMSG": "Approved", "AMT": "5.00"}
    assert re.fullmatch(r"[A-Z0-9]{12}", first["PNREF"]) and first["PNREF"] != pnref
    assert api(client, sandbox, {**credit, "AMT": "15.01"}) == {
        "RESULT": "105",
        "RESPMSG": "Credit error: amount exceeds the original",
    }
    for amount in ("0.00", "5", "abc"):
        assert api(client, sandbox, {**credit, "AMT": amount}) == {"RESULT": "4", "RESPMSG": "Invalid amount"}
    assert api(client, sandbox, {**credit, "AMT": "5.00", "CURRENCY": "EUR"}) == {
        "RESULT": "7",
        "RESPMSG": "Field format error: CURRENCY",
    }
    rest = api(client, sandbox, credit)  # no AMT: everything not yet credited
    assert (rest["RESULT"], rest["AMT"]) == ("0", "15.00")
    assert api(client, sandbox, {**credit, "AMT": "0.01"})["RESULT"] == "105"
    assert api(client, sandbox, credit)["RESULT"] == "105"
    credits = rows(sandbox, origid=pnref, trxtype="C")
    assert [(c["pnref"], c["amount"], c["transstate"], c["currency"]) for c in credits] == [
        (first["PNREF"], "5.00", 8, "USD"),
        (rest["PNREF"], "15.00", 8, "USD"),
    ]
    assert api(client, sandbox, {"TRXTYPE": "C", "ORIGID": first["PNREF"]}) == {
        "RESULT": "105",
        "RESPMSG": "Credit error: only a sale can be credited",
    }
    assert api(client, sandbox, {"TRXTYPE": "C", "ORIGID": "NOSUCHPNREF0"}) == {
        "RESULT": "19",
        "RESPMSG": "Original transaction ID not found",
    }
    assert api(client, sandbox, {"TRXTYPE": "C"}) == {"RESULT": "7", "RESPMSG": "Field format error: ORIGID"}


def test_credits_add_up_exactly(client, sandbox, receiver):
    pnref = sale(client, sandbox, receiver, amount="0.30", settle=True)
    for _ in range(3):
        assert api(client, sandbox, {"TRXTYPE": "C", "ORIGID": pnref, "AMT": "0.10"})["RESULT"] == "0"
    assert api(client, sandbox, {"TRXTYPE": "C", "ORIGID": pnref, "AMT": "0.01"})["RESULT"] == "105"


def test_a_declined_sale_cannot_be_credited(client, sandbox, receiver):
    pnref = sale(client, sandbox, receiver, card="declined")
    assert api(client, sandbox, {"TRXTYPE": "C", "ORIGID": pnref})["RESPMSG"] == (
        "Credit error: the sale is not settled"
    )


def test_void_rules(client, sandbox, receiver):
    pnref = sale(client, sandbox, receiver, amount="20.00")
    void = api(client, sandbox, {"TRXTYPE": "V", "ORIGID": pnref})
    assert void == {"RESULT": "0", "PNREF": void["PNREF"], "RESPMSG": "Approved"}
    assert re.fullmatch(r"[A-Z0-9]{12}", void["PNREF"])
    assert api(client, sandbox, {"TRXTYPE": "V", "ORIGID": pnref}) == {
        "RESULT": "108",
        "RESPMSG": "Void error: the sale is already voided",
    }
    inquiry = api(client, sandbox, {"TRXTYPE": "I", "ORIGID": pnref})
    assert (inquiry["TRANSSTATE"], inquiry["ORIGRESULT"]) == ("106", "0")
    with pytest.raises(ValueError, match="TRANSSTATE 106"):
        sandbox.settle(pnref)
    assert api(client, sandbox, {"TRXTYPE": "C", "ORIGID": pnref})["RESULT"] == "105"
    (voided,) = rows(sandbox, origid=pnref)
    assert (voided["trxtype"], voided["amount"], voided["transstate"]) == ("V", "20.00", 8)
    assert api(client, sandbox, {"TRXTYPE": "V", "ORIGID": void["PNREF"]}) == {
        "RESULT": "108",
        "RESPMSG": "Void error: only a sale can be voided",
    }


def test_settled_declined_and_unknown_sales_cannot_be_voided(client, sandbox, receiver):
    settled = sale(client, sandbox, receiver, settle=True)
    assert api(client, sandbox, {"TRXTYPE": "V", "ORIGID": settled}) == {
        "RESULT": "108",
        "RESPMSG": "Void error: the sale is settled, credit it instead",
    }
    declined = sale(client, sandbox, receiver, card="fraud")
    assert api(client, sandbox, {"TRXTYPE": "V", "ORIGID": declined}) == {
        "RESULT": "108",
        "RESPMSG": "Void error: the sale was declined",
    }
    assert api(client, sandbox, {"TRXTYPE": "V", "ORIGID": "NOSUCHPNREF0"}) == {
        "RESULT": "19",
        "RESPMSG": "Original transaction ID not found",
    }


def test_inquiry_of_a_sale(client, sandbox, receiver):
    token = create_token(client, sandbox, receiver, amount="12.50")
    paid = sandbox.pay(token.id, "amex")
    expected = {
        "RESULT": "0",
        "RESPMSG": "Approved",
        "ORIGRESULT": "0",
        "ORIGPNREF": paid["PNREF"],
        "TRANSSTATE": "6",
        "TRXTYPE": "S",
        "AMT": "12.50",
        "CURRENCY": "USD",
        "CUSTREF": token.custref,
        "INVNUM": token.invnum,
        "SECURETOKENID": token.id,
        "TENDER": "C",
        "CARDTYPE": "3",
        "ACCT": "8431",
        "AUTHCODE": paid["AUTHCODE"],
        "ORIGRESPMSG": "Approved",
    }
    assert api(client, sandbox, {"TRXTYPE": "I", "ORIGID": paid["PNREF"]}) == expected
    assert api(client, sandbox, {"TRXTYPE": "I", "CUSTREF": token.custref}) == expected
    sandbox.settle(paid["PNREF"])
    assert api(client, sandbox, {"TRXTYPE": "I", "ORIGID": paid["PNREF"]})["TRANSSTATE"] == "8"


def test_inquiry_by_custref_finds_the_latest_sale(client, sandbox, receiver):
    custref = new_ref("order")
    first = sale(client, sandbox, receiver, amount="10.00", card="declined", CUSTREF=custref)
    declined = api(client, sandbox, {"TRXTYPE": "I", "CUSTREF": custref})
    assert (declined["ORIGPNREF"], declined["ORIGRESULT"], declined["TRANSSTATE"]) == (first, "12", "1")
    assert declined["ORIGRESPMSG"] == "Declined" and "AUTHCODE" not in declined
    second = sale(client, sandbox, receiver, amount="10.00", CUSTREF=custref, settle=True)
    api(client, sandbox, {"TRXTYPE": "C", "ORIGID": second, "AMT": "2.50"})
    latest = api(client, sandbox, {"TRXTYPE": "I", "CUSTREF": custref})
    assert (latest["ORIGPNREF"], latest["ORIGRESULT"], latest["TRANSSTATE"], latest["TRXTYPE"]) == (
        second,
        "0",
        "8",
        "S",
    )


def test_inquiry_of_a_credit(client, sandbox, receiver):
    pnref = sale(client, sandbox, receiver, amount="9.99", settle=True)
    credit = api(client, sandbox, {"TRXTYPE": "C", "ORIGID": pnref, "AMT": "1.99"})
    answer = api(client, sandbox, {"TRXTYPE": "I", "ORIGID": credit["PNREF"]})
    assert {k: answer.get(k) for k in ("TRXTYPE", "TRANSSTATE", "AMT", "ORIGID", "ORIGPNREF", "ACCT")} == {
        "TRXTYPE": "C",
        "TRANSSTATE": "8",
        "AMT": "1.99",
        "ORIGID": pnref,
        "ORIGPNREF": credit["PNREF"],
        "ACCT": "1111",
    }


def test_inquiry_errors(client, sandbox):
    not_found = {"RESULT": "19", "RESPMSG": "Original transaction ID not found"}
    assert api(client, sandbox, {"TRXTYPE": "I", "ORIGID": "NOSUCHPNREF0"}) == not_found
    assert api(client, sandbox, {"TRXTYPE": "I", "CUSTREF": new_ref("never")}) == not_found
    assert api(client, sandbox, {"TRXTYPE": "I"}) == {
        "RESULT": "7",
        "RESPMSG": "Field format error: ORIGID or CUSTREF",
    }


def test_settle(client, sandbox, receiver):
    pnref = sale(client, sandbox, receiver)
    sandbox.settle(pnref)
    assert rows(sandbox, pnref=pnref)[0]["transstate"] == 8
    with pytest.raises(ValueError, match="TRANSSTATE 8"):
        sandbox.settle(pnref)
    with pytest.raises(LookupError):
        sandbox.settle("NOSUCHPNREF0")


# --- duplicate detection --------------------------------------------------------------------------


def test_a_repeated_request_id_replays_the_original_answer(client, sandbox, receiver):
    fields = token_fields(receiver)
    request_id = new_request_id()
    first = post_api(client, sandbox, fields, request_id)
    again = post_api(client, sandbox, {**fields, "AMT": "99.00"}, request_id)
    assert again.content == first.content + b"&DUPLICATE=1"
    assert nvp.decode(again.content)["DUPLICATE"] == "1"
    assert sandbox.pay(fields["SECURETOKENID"], "visa")["AMT"] == "12.50"

    pnref = sale(client, sandbox, receiver, amount="8.00", settle=True)
    credit_id = new_request_id()
    credit = api(client, sandbox, {"TRXTYPE": "C", "ORIGID": pnref, "AMT": "3.00"}, credit_id)
    replay = api(client, sandbox, {"TRXTYPE": "C", "ORIGID": pnref, "AMT": "3.00"}, credit_id)
    assert replay == {**credit, "DUPLICATE": "1"}
    assert [c["amount"] for c in rows(sandbox, origid=pnref)] == ["3.00"]

    refused_id = new_request_id()  # errors are remembered too
    refused = api(client, sandbox, {"TRXTYPE": "C", "ORIGID": pnref, "AMT": "6.00"}, refused_id)
    assert refused["RESULT"] == "105"
    assert api(client, sandbox, {"TRXTYPE": "C", "ORIGID": pnref, "AMT": "1.00"}, refused_id) == {
        **refused,
        "DUPLICATE": "1",
    }


def test_a_lost_response_is_replayed_for_its_request_id(client, sandbox, receiver):
    pnref = sale(client, sandbox, receiver, amount="40.00", settle=True)
    request_id = new_request_id()
    credit = {"TRXTYPE": "C", "ORIGID": pnref, "AMT": "12.34"}
    sandbox.set_faults(lose_response=True, only="credit", times=1)
    with pytest.raises(requests.ConnectionError):
        post_api(client, sandbox, credit, request_id)
    replay = api(client, sandbox, credit, request_id)
    assert (replay["RESULT"], replay["AMT"], replay["DUPLICATE"]) == ("0", "12.34", "1")
    (done,) = rows(sandbox, origid=pnref)
    assert (done["pnref"], done["amount"]) == (replay["PNREF"], "12.34")

    fields = token_fields(receiver)
    token_request = new_request_id()
    sandbox.set_faults(lose_response=True, only=["token"], times=1)
    with pytest.raises(requests.ConnectionError):
        post_api(client, sandbox, fields, token_request)
    replay = api(client, sandbox, fields, token_request)
    assert (replay["RESULT"], replay["DUPLICATE"]) == ("0", "1")
    token = Token(fields["SECURETOKENID"], replay["SECURETOKEN"], fields["CUSTREF"], fields["INVNUM"])
    assert checkout_page(client, sandbox, token).status_code == 200


def test_one_request_id_sent_twice_at_once_is_processed_once(client, sandbox, receiver):
    pnref = sale(client, sandbox, receiver, amount="10.00", settle=True)
    request_id = new_request_id()

    def send():
        with new_session() as session:
            return api(session, sandbox, {"TRXTYPE": "C", "ORIGID": pnref, "AMT": "10.00"}, request_id)

    answers = at_once(send, send)
    assert sorted(a.get("DUPLICATE", "") for a in answers) == ["", "1"]
    assert {a["RESULT"] for a in answers} == {"0"}
    assert [c["amount"] for c in rows(sandbox, origid=pnref)] == ["10.00"]


# --- faults ---------------------------------------------------------------------------------------


def test_an_injected_status_does_nothing(client, sandbox, receiver):
    fields = token_fields(receiver)
    request_id = new_request_id()
    sandbox.set_faults(status=503, times=1)
    response = post_api(client, sandbox, fields, request_id)
    assert (response.status_code, response.content, response.headers["Retry-After"]) == (503, b"", "1")
    answer = api(client, sandbox, fields, request_id)  # neither the request id nor the token was kept
    assert answer["RESULT"] == "0" and "DUPLICATE" not in answer


def test_a_dropped_connection_does_nothing(client, sandbox, receiver):
    token = create_token(client, sandbox, receiver)
    sandbox.set_faults(drop_connection=True, only="checkout", times=1)
    with pytest.raises(requests.ConnectionError):
        submit(client, sandbox, token, "visa")
    assert rows(sandbox, secure_token_id=token.id) == []
    assert receiver.received(token.id) == []
    assert submit(client, sandbox, token, "visa").status_code == 200

    pnref = sale(client, sandbox, receiver, settle=True)
    sandbox.set_faults(drop_connection=True, only="credit")
    for _ in range(2):
        with pytest.raises(requests.ConnectionError):
            post_api(client, sandbox, {"TRXTYPE": "C", "ORIGID": pnref})
    sandbox.clear_faults()
    assert rows(sandbox, origid=pnref) == []


def test_a_lost_checkout_response_still_pays_and_posts(client, sandbox, receiver):
    token = create_token(client, sandbox, receiver)
    sandbox.set_faults(lose_response=True, only="checkout", times=1)
    with pytest.raises(requests.ConnectionError):
        submit(client, sandbox, token, "visa")
    assert len(rows(sandbox, secure_token_id=token.id)) == 1
    assert len(receiver.received(token.id)) == 1
    assert checkout_page(client, sandbox, token).status_code == 410


def test_latency(client, sandbox, receiver):
    pnref = sale(client, sandbox, receiver)
    sandbox.set_faults(latency_ms=300, only="inquiry", times=1)
    started = time.monotonic()
    assert api(client, sandbox, {"TRXTYPE": "I", "ORIGID": pnref})["RESULT"] == "0"
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    assert api(client, sandbox, {"TRXTYPE": "I", "ORIGID": pnref})["RESULT"] == "0"
    assert time.monotonic() - started < 0.3


def test_faults_touch_only_the_named_operations(client, sandbox, receiver):
    pnref = sale(client, sandbox, receiver)
    sandbox.set_faults(status=500, only="void,settle")
    assert api(client, sandbox, {"TRXTYPE": "I", "ORIGID": pnref})["RESULT"] == "0"
    assert post_api(client, sandbox, {"TRXTYPE": "V", "ORIGID": pnref}).status_code == 500
    assert control(client, sandbox, "POST", "/__sandbox__/settle", {"pnref": pnref}).status_code == 500
    assert rows(sandbox, pnref=pnref)[0]["transstate"] == 6
    assert sandbox.faults["only"] == ["void", "settle"] and sandbox.faults["remaining"] is None
    with pytest.raises(ValueError, match="unknown operations"):
        sandbox.set_faults(status=500, only="sale")
    with pytest.raises(ValueError, match="choose one"):
        sandbox.set_faults(status=500, drop_connection=True)


@pytest.mark.parametrize("fault", [{"status": 500}, {"lose_response": True}, {"drop_connection": True}])
def test_a_silent_post_fault_means_no_delivery(client, sandbox, receiver, fault):
    token = create_token(client, sandbox, receiver)
    sandbox.set_faults(**fault, only="silent_post", times=1)
    response = submit(client, sandbox, token, "visa")
    assert response.status_code == 200 and Page(response.text).h1 == ["Payment approved"]
    assert receiver.received(token.id) == []
    (delivery,) = [d for d in sandbox.silent_posts() if d["fields"]["SECURETOKENID"] == token.id]
    assert (delivery["status"], delivery["error"]) == (None, "not delivered: injected fault")
    assert len(rows(sandbox, secure_token_id=token.id)) == 1


def test_a_slow_silent_post_is_delivered_late(client, sandbox, receiver):
    token = create_token(client, sandbox, receiver)
    sandbox.set_faults(latency_ms=200, only="silent_post", times=1)
    started = time.monotonic()
    sandbox.pay(token.id, "visa")
    assert time.monotonic() - started >= 0.2
    assert len(receiver.received(token.id)) == 1


# --- control endpoints ----------------------------------------------------------------------------


def test_control_endpoints(client, sandbox, receiver):
    assert client.get(sandbox.url + "/__sandbox__/health", timeout=10).json() == {"ok": True}
    for verb, path in [("GET", "/__sandbox__/transactions"), ("GET", "/__sandbox__/faults")]:
        for auth in (None, ("test_user", "wrong"), ("test_vendor", "test_password")):
            response = control(client, sandbox, verb, path, auth=auth)
            assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Basic")
    pnref = sale(client, sandbox, receiver, amount="6.60")
    listed = control(client, sandbox, "GET", "/__sandbox__/transactions").json()
    assert listed == sandbox.transactions()
    assert [row["amount"] for row in listed if row["pnref"] == pnref] == ["6.60"]
    posts = control(client, sandbox, "GET", "/__sandbox__/silent_posts").json()
    assert posts == sandbox.silent_posts()

    set_fault = control(
        client, sandbox, "PUT", "/__sandbox__/faults", {"status": 502, "times": 2, "only": ["void"]}
    )
    assert set_fault.json()["faults"]["status"] == 502
    assert control(client, sandbox, "GET", "/__sandbox__/faults").json()["faults"]["remaining"] == 2
    assert control(client, sandbox, "DELETE", "/__sandbox__/faults").json() == {"faults": None}
    assert sandbox.faults is None
    assert control(client, sandbox, "PUT", "/__sandbox__/faults", {"only": ["nothing"]}).status_code == 400
    assert control(client, sandbox, "PUT", "/__sandbox__/faults", {"bogus": 1}).status_code == 400

    settled = control(client, sandbox, "POST", "/__sandbox__/settle", {"pnref": pnref})
    assert settled.json() == {"pnref": pnref, "transstate": 8}
    assert control(client, sandbox, "POST", "/__sandbox__/settle", {"pnref": pnref}).status_code == 409
    assert (
        control(client, sandbox, "POST", "/__sandbox__/settle", {"pnref": "NOSUCHPNREF0"}).status_code == 404
    )
    assert control(client, sandbox, "POST", "/__sandbox__/settle", {}).status_code == 400
    assert control(client, sandbox, "GET", "/__sandbox__/nothing").status_code == 404


# --- concurrency ----------------------------------------------------------------------------------


def test_two_payers_on_one_token_make_one_sale(client, sandbox, receiver):
    def pay(token, card):
        with new_session() as session:
            return submit(session, sandbox, token, card).status_code

    for _ in range(5):
        token = create_token(client, sandbox, receiver, amount="15.00")
        statuses = at_once(partial(pay, token, "visa"), partial(pay, token, "mastercard"))
        assert sorted(statuses) == [200, 410]
        assert len(rows(sandbox, secure_token_id=token.id)) == 1
        assert len(receiver.received(token.id)) == 1


# --- persistence, lifecycle, command line ---------------------------------------------------------


def test_the_ledger_survives_a_restart(tmp_path, client, receiver):
    path = str(tmp_path / "kept.db")
    credit_id = new_request_id()
    with PayflowSandbox(port=0, data_path=path, **ACCOUNT) as first:
        unpaid = create_token(client, first, receiver)
        paid = create_token(client, first, receiver, amount="25.00")
        pnref = first.pay(paid.id, "discover")["PNREF"]
        first.settle(pnref)
        credit = api(client, first, {"TRXTYPE": "C", "ORIGID": pnref, "AMT": "5.00"}, credit_id)
        ledger, posts = first.transactions(), first.silent_posts()
    with PayflowSandbox(port=0, data_path=path, **ACCOUNT) as second:
        assert second.transactions() == ledger and second.silent_posts() == posts
        replay = api(client, second, {"TRXTYPE": "C", "ORIGID": pnref, "AMT": "5.00"}, credit_id)
        assert replay == {**credit, "DUPLICATE": "1"}
        assert api(client, second, {"TRXTYPE": "C", "ORIGID": pnref})["AMT"] == "20.00"
        assert checkout_page(client, second, paid).status_code == 410
        assert checkout_page(client, second, unpaid).status_code == 200
        assert api(client, second, token_fields(receiver, paid.id))["RESPMSG"] == (
            "Field format error: Secure Token ID already been used"
        )


def test_without_a_data_path_the_ledger_is_in_memory(client, receiver):
    with PayflowSandbox(port=0, **ACCOUNT) as first:
        sale(client, first, receiver)
        assert len(first.transactions()) == 1
    with PayflowSandbox(port=0, **ACCOUNT) as second:
        assert second.transactions() == []


def test_lifecycle_and_settings():
    sandbox = PayflowSandbox(port=0)
    assert not sandbox.running
    with pytest.raises(RuntimeError):
        sandbox.transactions()
    with sandbox:
        assert sandbox.running and sandbox.url == f"http://127.0.0.1:{sandbox.port}" and sandbox.port > 0
        with pytest.raises(RuntimeError):
            sandbox.start()
    assert not sandbox.running
    sandbox.stop()  # stopping twice is harmless
    with pytest.raises(ValueError, match="currencies"):
        PayflowSandbox(currencies=("usd",))
    with pytest.raises(ValueError, match="token_ttl"):
        PayflowSandbox(token_ttl=timedelta(0))


def test_the_command_serves_until_interrupted(tmp_path, client, receiver):
    data = tmp_path / "nested" / "payflow.db"
    code = "from portal.payments.payflow_sandbox.cli import payflow_sandbox; payflow_sandbox()"
    args = ["--port", "0", "--data", str(data), "--vendor", "cli_vendor", "--currency", "eur"]
    env = {**os.environ, "PYTHONWARNINGS": "error::DeprecationWarning"}
    process = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        first_line = process.stdout.readline()
        assert "Payflow sandbox" in first_line, (
            process.stderr.read() if process.poll() is not None else first_line
        )
        url = first_line.split(" on ")[1].split(" ")[0]
        cli = SimpleNamespace(url=url)  # what the helpers need of a sandbox
        creds = {**CREDS, "VENDOR": "cli_vendor", "USER": "sandbox_user", "PWD": "sandbox_password"}
        eur = api(client, cli, token_fields(receiver, CURRENCY="EUR"), creds=creds)
        usd = api(client, cli, token_fields(receiver), creds=creds)
        assert (eur["RESULT"], usd["RESPMSG"]) == ("0", "Field format error: CURRENCY")
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "stopped" in out and data.exists()


def test_the_sandbox_stands_alone():
    """No Flask and no database layer: it runs beside any app."""
    probe = (
        "import sys, portal.payments.payflow_sandbox, portal.payments.payflow_sandbox.cli\n"
        "app_layers = ('flask', 'flask_sqlalchemy', 'sqlalchemy')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in app_layers))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --- no card number anywhere ----------------------------------------------------------------------


def test_the_card_number_scan_finds_card_numbers_in_name_value_and_form_bodies():
    """The shared scan (tests/security/card_scan.py) also reads this sandbox's wire formats."""
    for text in ["ACCT=4111111111111111&x", "ACCT=4111+1111+1111+1111&x", "pay 4111 1111 1111 1111 now"]:
        assert [finding.value for finding in scan_text(text, "")] == ["4111111111111111"], text
    assert scan_text("4111111111111112 2026-05-09 10:20:30 AMT=12.50", "") == []


def test_no_card_number_reaches_pages_posts_logs_or_the_store(client, sandbox, receiver, data_path, caplog):
    caplog.set_level(logging.DEBUG, logger="portal.payments.payflow_sandbox")
    seen = []
    direct = {"TRXTYPE": "S", "ACCT": "4111111111111111", "EXPDATE": "1230", "AMT": "1.00"}
    assert api(client, sandbox, direct)["RESULT"] == "7"
    for card in CARDS:
        token = create_token(client, sandbox, receiver, amount="3.00")
        seen.append(checkout_page(client, sandbox, token).content)
        seen.append(submit(client, sandbox, token, "4111111111111111").content)  # not a card key
        response = submit(client, sandbox, token, card)
        seen.append(response.content)
        fields = Page(response.text).forms[0]["hidden"]
        if fields["RESULT"] == "0":
            seen.append(post_api(client, sandbox, {"TRXTYPE": "I", "ORIGID": fields["PNREF"]}).content)
            sandbox.settle(fields["PNREF"])
            seen.append(post_api(client, sandbox, {"TRXTYPE": "C", "ORIGID": fields["PNREF"]}).content)
    expired = create_token(client, sandbox, receiver)
    sandbox.expire_token(expired.id)
    seen.append(checkout_page(client, sandbox, expired).content)
    with receiver.lock:
        seen.extend(p["body"] for p in receiver.posts)
    seen.append(repr(sandbox.silent_posts()).encode())
    seen.append(repr(sandbox.transactions()).encode())
    seen.append(caplog.text.encode())
    seen.append(Path(data_path).read_bytes())
    found = [finding for blob in seen for finding in scan_text(blob.decode("utf-8", "replace"), "")]
    assert found == []
