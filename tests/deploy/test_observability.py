"""Request ids and structured logs."""

import io
import json
import logging

from portal.observability import configure_logging, loggable_path


def test_every_response_carries_a_request_id_and_a_sane_incoming_one_is_kept(client):
    first = client.get("/login").headers["X-Request-ID"]
    second = client.get("/login").headers["X-Request-ID"]
    assert len(first) == 32 and first != second
    assert (
        client.get("/login", headers={"X-Request-ID": "lb-1234.abc"}).headers["X-Request-ID"] == "lb-1234.abc"
    )
    # Anything else (too long, spaces, markup) is replaced, never echoed.
    for bad in ("x" * 65, "has space", "<script>", ""):
        returned = client.get("/login", headers={"X-Request-ID": bad}).headers["X-Request-ID"]
        assert returned != bad and len(returned) == 32


def test_json_log_lines_carry_the_request_id_of_their_request(app, client):
    stream = io.StringIO()
    handler = configure_logging("json", "INFO", stream=stream)
    try:
        response = client.get("/login", headers={"X-Request-ID": "req-42"})
        assert response.status_code == 200
        with app.test_request_context("/"):
            logging.getLogger("portal.test").info("outside any request id", extra={"seats": 3})
    finally:
        logging.getLogger().removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    [access] = [line for line in lines if line["logger"] == "portal.access"]
    assert access["request_id"] == "req-42"
    assert (access["method"], access["path"], access["status"]) == ("GET", "/login", 200)
    assert isinstance(access["duration_ms"], float)
    [other] = [line for line in lines if line["logger"] == "portal.test"]
    assert other["request_id"] == "-" and other["seats"] == 3 and other["level"] == "INFO"


def test_text_log_lines_carry_the_request_id_too(client):
    stream = io.StringIO()
    handler = configure_logging("text", "INFO", stream=stream)
    try:
        client.get("/login", headers={"X-Request-ID": "req-43"})
    finally:
        logging.getLogger().removeHandler(handler)
    assert "[req-43] portal.access: GET /login 200" in stream.getvalue()


def test_secret_tokens_in_paths_are_never_logged():
    token = "Zq3v9kXfJ2mN8pL4sT6wYb"
    assert loggable_path(f"/r/{token}/pay") == "/r/:token/pay"
    assert loggable_path(f"/invite/{token}.abc-def") == "/invite/:token"
    assert loggable_path("/sessions/12/registrants") == "/sessions/12/registrants"
