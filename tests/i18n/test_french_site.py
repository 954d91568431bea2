"""Every page an administrator or an organizer can open renders in French, without error."""

import re

import pytest

from portal.demo import load_demo_data
from tests.conftest import PASSWORD, login

# Pages that are not HTML pages of their own: downloads, JSON, the payment sandbox's helpers.
SKIP = re.compile(r"(\.csv|/export|/health|/metrics|/static/|/logout|/webhooks?|/sandbox|/ready|/live)")


def get_pages(app) -> list[str]:
    return sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and not rule.arguments and not SKIP.search(rule.rule)
    )


@pytest.fixture
def demo(app, tmp_path):
    app.instance_path = str(tmp_path)
    with app.app_context():
        load_demo_data(PASSWORD)


@pytest.mark.parametrize("email", ["admin@example.com", "organizer@example.com"])
def test_every_page_renders_in_french(app, client, demo, email):
    client.get("/login?lang=fr")
    assert login(client, email).status_code == 303
    pages = get_pages(app)
    assert "/admin/settings" in pages
    seen = []
    for path in pages:
        response = client.get(path)
        assert response.status_code < 500, path
        if response.status_code == 200 and response.mimetype == "text/html":
            assert '<html lang="fr">' in response.text, path
            assert "Se déconnecter" in response.text, path
            seen.append(path)
    assert len(seen) >= 5, seen
    # And the pages linked from those (a session, a coupon, a payment): one level deeper.
    linked = set()
    for path in seen:
        linked.update(
            re.findall(
                r'href="(/(?:sessions|admin|coupons|reports)/[^"?#]*\d[^"?#]*)"', client.get(path).text
            )
        )
    for path in sorted(linked - set(seen))[:60]:
        response = client.get(path)
        assert response.status_code < 500, path
        if response.status_code == 200 and response.mimetype == "text/html":
            assert '<html lang="fr">' in response.text, path
