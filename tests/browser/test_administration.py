"""An administrator runs the site from its pages in a real browser: people, money, the audit log.

The administrator's browser has JavaScript off (every page must work without it);
the invited organizer's has it on, with the CSP watched.
"""

import re

from playwright.sync_api import expect
from sqlalchemy import select

from portal.accounts.models import Role
from portal.extensions import db
from portal.mail.models import OutboxMessage
from tests.browser.test_live_estimate import log_in, watch_csp
from tests.factories import enable_ecommerce, make_training, make_user
from tests.reports.history import guest_pays


def test_an_admin_invites_an_organizer_and_follows_the_money(app, live_server, new_context):
    with app.app_context():
        enable_ecommerce()
        make_user("admin@example.com", role=Role.ADMIN, department=None)
        organizer = make_user("organizer@example.com", department="Sales")
        training = make_training(organizer, title="Negotiation basics", fee_cents=4900)
        guest_pays(training, "guest@example.com")

    admin = new_context(java_script_enabled=False).new_page()
    log_in(admin, live_server, "admin@example.com")
    expect(admin.get_by_role("heading", name="Administration", level=1)).to_be_visible()
    expect(admin.locator("#today-revenue")).to_have_attribute("data-amounts", "USD:49.00")

    # People: invite an organizer into Sales.
    nav = admin.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Users", exact=True).click()
    admin.get_by_role("link", name="Invite a user").click()
    admin.get_by_label("Email", exact=True).fill("newcomer@example.com")
    admin.get_by_label("Name", exact=True).fill("Nora Newcomer")
    admin.get_by_label("Role", exact=True).select_option(label="Organizer")
    admin.get_by_label("Department", exact=True).select_option(label="Sales")
    admin.get_by_role("button", name="Send invitation").click()
    expect(admin.get_by_text("newcomer@example.com").first).to_be_visible()
    with app.app_context():
        body = db.session.scalar(
            select(OutboxMessage.body).where(OutboxMessage.to_email == "newcomer@example.com")
        )
    link = re.search(r"https?://\S+/invite/\S+", body).group(0)

    # The newcomer sets a password from the link and lands on their home.
    newcomer = new_context().new_page()
    problems: list[str] = []
    watch_csp(newcomer, problems)
    newcomer.goto(live_server + link[link.index("/invite/") :])
    newcomer.get_by_label("Password", exact=True).fill("a long new password")
    newcomer.get_by_label("Confirm password", exact=True).fill("a long new password")
    newcomer.get_by_role("button", name="Set password").click()
    expect(newcomer.get_by_role("heading", name="Upcoming sessions", level=1)).to_be_visible()
    expect(newcomer.get_by_role("button", name="Log out")).to_be_visible()
    assert problems == []

    # Money: the ledger filtered to guest fees, and the same figure in the per-session report.
    nav.get_by_role("link", name="Payments ledger", exact=True).click()
    admin.get_by_label("Purpose", exact=True).select_option(label="Guest fee")
    admin.get_by_role("button", name="Filter").click()
    expect(admin).to_have_url(re.compile(r"purpose=guest_fee"))
    expect(admin.locator("tr.ledger-total")).to_have_attribute("data-net", "49.00")
    nav.get_by_role("link", name="Reports", exact=True).click()
    admin.get_by_role("link", name="Revenue per session").click()
    expect(admin.locator("tr.revenue-row")).to_have_attribute("data-net", "49.00")

    # The audit log says who invited whom.
    nav.get_by_role("link", name="Audit log", exact=True).click()
    expect(admin.locator("table").get_by_text("User invited").first).to_be_visible()
