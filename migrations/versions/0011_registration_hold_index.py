"""registration hold index: a session's holds by expiry, so ending or counting run-out holds is a range

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 06:30:00

Every registration ends the session's run-out holds first, and the public page counts them;
with the old (session, status) index both walked every pending guest of the session.
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_registrations_session_status_hold",
        "registrations",
        ["training_session_id", "status", "hold_expires_at"],
    )
    op.drop_index("ix_registrations_session_status", table_name="registrations")


def downgrade():
    op.create_index("ix_registrations_session_status", "registrations", ["training_session_id", "status"])
    op.drop_index("ix_registrations_session_status_hold", table_name="registrations")
