"""dashboard index: confirmed registrations by date, so today's and this month's counts are ranges

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 00:05:00

"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_registrations_status_confirmed_at", "registrations", ["status", "confirmed_at"])


def downgrade():
    op.drop_index("ix_registrations_status_confirmed_at", table_name="registrations")
