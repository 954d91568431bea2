"""/healthz and /readyz."""

from sqlalchemy import text

from portal import create_app
from portal.extensions import db
from tests.conftest import make_config


def test_healthz_checks_the_database_and_the_gateway(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "gateway": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_healthz_fails_when_the_gateway_is_unreachable(migrated_url):
    app = create_app(make_config(migrated_url, PAYMENTS_SANDBOX_URL="http://127.0.0.1:9"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "failing", "database": "ok", "gateway": "failing"}
    with app.app_context():
        db.engine.dispose()


def test_healthz_fails_when_the_database_is_unreachable(payments_sandbox, tmp_path):
    url = "postgresql://nobody@127.0.0.1:9/none"
    app = create_app(make_config(url, payments_sandbox))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "failing"


def test_readyz_needs_the_schema_at_the_migrations_head(app, client):
    assert client.get("/readyz").json == {"status": "ok", "database": "ok", "schema": "ok"}
    with app.app_context():
        head = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
        db.session.execute(text("UPDATE alembic_version SET version_num = '0001'"))
        db.session.commit()
    try:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json["schema"] == "failing"
    finally:
        with app.app_context():
            db.session.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
            db.session.commit()
    assert client.get("/readyz").status_code == 200


def test_health_checks_are_never_rate_limited(client):
    assert all(client.get("/healthz").status_code == 200 for _ in range(30))
