"""Pages follow the browser's language, can be switched on every page, and remember the choice."""

from http.cookies import SimpleCookie

import pytest

from portal.accounts.models import Role
from portal.admin.models import SiteSettings
from portal.extensions import db
from tests.conftest import csrf_from, login
from tests.factories import make_user
from tests.web.test_settings import VALID

NBSP = "\u00a0"


def cookie_set(response, name="portal_lang") -> str | None:
    for header in response.headers.getlist("Set-Cookie"):
        cookie = SimpleCookie(header)
        if name in cookie:
            return cookie[name].value
    return None


def test_the_login_page_is_english_by_default(client):
    page = client.get("/login")
    assert '<html lang="en">' in page.text
    for label in (">Email</label>", ">Password</label>", ">Log in</button>"):
        assert label in page.text, label
    assert cookie_set(page) is None


@pytest.mark.parametrize("accept", ["fr", "fr-FR,fr;q=0.9,en;q=0.5", "fr-CA", "de-DE, fr;q=0.8"])
def test_the_login_page_follows_a_french_browser(client, accept):
    page = client.get("/login", headers={"Accept-Language": accept})
    assert '<html lang="fr">' in page.text
    for label in (">E-mail</label>", ">Mot de passe</label>", ">Se connecter</button>"):
        assert label in page.text, label
    assert "Accept-Language" in page.headers["Vary"]


def test_an_english_browser_gets_english(client):
    page = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9,fr;q=0.5"})
    assert '<html lang="en">' in page.text and ">Log in</button>" in page.text


def test_the_switcher_choice_is_remembered_without_the_parameter(client):
    switched = client.get("/login?lang=fr", headers={"Accept-Language": "en"})
    assert ">Se connecter</button>" in switched.text
    assert cookie_set(switched) == "fr"
    # The next page, with no ?lang= and an English browser, stays French.
    again = client.get("/login", headers={"Accept-Language": "en"})
    assert ">Se connecter</button>" in again.text
    # And switching back is remembered too.
    back = client.get("/login?lang=en", headers={"Accept-Language": "fr"})
    assert ">Log in</button>" in back.text and cookie_set(back) == "en"
    assert ">Log in</button>" in client.get("/login", headers={"Accept-Language": "fr"}).text


def test_an_unknown_language_is_ignored(client):
    page = client.get("/login?lang=xx", headers={"Accept-Language": "fr"})
    assert ">Se connecter</button>" in page.text and cookie_set(page) is None


def test_the_switcher_keeps_the_page_and_its_query(client):
    page = client.get("/login?next=%2Fsessions&lang=fr").text
    assert 'href="/login?next=/sessions&amp;lang=en" lang="en"' in page
    assert 'href="/login?next=/sessions&amp;lang=fr" lang="fr"' in page


def test_a_french_form_error_and_flash_message(app, client):
    client.get("/login?lang=fr")
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"email": "nobody@example.com", "password": "wrong", "csrf_token": csrf_from(page.text)},
    )
    assert "E-mail ou mot de passe incorrect." in response.text


def test_a_french_organizer_sees_french_navigation(app, client):
    with app.app_context():
        make_user("organizer@example.com", role=Role.ORGANIZER)
    client.get("/login?lang=fr")
    login(client, "organizer@example.com")
    page = client.get("/", follow_redirects=True).text
    for text in ("Planifier une session", "Mes sessions", "Se déconnecter"):
        assert text in page, text


def test_the_not_found_page_is_french_too(client):
    page = client.get("/no-such-page", headers={"Accept-Language": "fr"})
    assert page.status_code == 404 and "Page introuvable" in page.text
    assert 'href="?lang=en"' in page.text


def test_a_french_administrator_types_rates_with_a_decimal_comma(app, client):
    with app.app_context():
        make_user("admin@example.com", role=Role.ADMIN, department=None)
    client.get("/login?lang=fr")
    login(client, "admin@example.com")
    page = client.get("/admin/settings")
    data = {**VALID, "person_minute_rate": "0,0125", "toll_rate": "0.09", "tax_percent": "20,5"}
    response = client.post("/admin/settings", data={**data, "csrf_token": csrf_from(page.text)})
    assert response.status_code == 303
    with app.app_context():
        settings = db.session.get(SiteSettings, 1)
        assert str(settings.person_minute_rate) == "0.0125" and str(settings.toll_rate) == "0.09"
        assert str(settings.tax_percent) == "20.5"
    shown = client.get("/admin/settings").text
    assert 'value="0,0125"' in shown and 'value="0,09"' in shown and 'value="20,5"' in shown
    refused = client.post(
        "/admin/settings",
        data={**data, "person_minute_rate": "0,01,25", "csrf_token": csrf_from(shown)},
    )
    assert refused.status_code == 422 and "Saisissez un nombre, par exemple 12,50." in refused.text
    assert 'value="0,01,25"' in refused.text  # what was typed stays, to be corrected
