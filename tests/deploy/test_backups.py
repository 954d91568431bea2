"""``flask portal backup`` and ``restore``: an online copy, and getting it back."""

from sqlalchemy import func, select

from portal.accounts.models import User
from portal.extensions import db
from tests.factories import make_user


def users(app) -> list[str]:
    with app.app_context():
        return sorted(db.session.scalars(select(User.email)))


def test_a_backup_restores_the_data_as_it_was(app, runner, tmp_path):
    with app.app_context():
        make_user("kept@example.com")
    target = tmp_path / "portal.backup"
    result = runner.invoke(args=["portal", "backup", str(target)])
    assert result.exit_code == 0, result.output
    assert target.stat().st_size > 0
    assert runner.invoke(args=["portal", "backup", str(target)]).exit_code != 0  # never overwritten silently

    with app.app_context():
        make_user("added-later@example.com")
    assert users(app) == ["added-later@example.com", "kept@example.com"]
    refused = runner.invoke(args=["portal", "restore", str(target)])
    assert refused.exit_code != 0 and "--yes" in refused.output
    result = runner.invoke(args=["portal", "restore", str(target), "--yes"])
    assert result.exit_code == 0, result.output
    assert users(app) == ["kept@example.com"]
    with app.app_context():  # the restored database is whole: the app writes to it again
        make_user("after@example.com")
        assert db.session.scalar(select(func.count()).select_from(User)) == 2
