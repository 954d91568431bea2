"""hosted checkout: a payment's secure token on a gateway's own payment page (Payflow Pro)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 02:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("payments") as batch:
        batch.add_column(sa.Column("checkout_token_id", sa.String(36), nullable=True))
        batch.add_column(sa.Column("checkout_token", sa.String(64), nullable=True))
        batch.add_column(sa.Column("checkout_expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_unique_constraint("uq_payments_checkout_token_id", ["checkout_token_id"])


def downgrade():
    with op.batch_alter_table("payments") as batch:
        batch.drop_constraint("uq_payments_checkout_token_id", type_="unique")
        batch.drop_column("checkout_expires_at")
        batch.drop_column("checkout_token")
        batch.drop_column("checkout_token_id")
