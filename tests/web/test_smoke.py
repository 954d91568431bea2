from tests.conftest import login
from tests.factories import enable_ecommerce, make_user


def test_organizer_sees_live_estimate_on_scheduling_page(app, client):
    with app.app_context():
        enable_ecommerce()
        make_user()
    assert login(client, "organizer@example.com").status_code == 303
    page = client.get("/sessions/new")
    assert page.status_code == 200
    # 60 min x (10 attendees + 1) x 0.0125 = 8.25
    assert 'data-total="8.25"' in page.text
