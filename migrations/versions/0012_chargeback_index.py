"""chargeback index: the ledger finds lost disputes by status and date instead of scanning payments

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 09:45:00

Every ledger query (the admin home's revenue, the payments ledger, the revenue reports) has a
chargeback branch; without this index each one read every payment.
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_payments_dispute", "payments", ["dispute_status", "dispute_updated_at"])


def downgrade():
    op.drop_index("ix_payments_dispute", table_name="payments")
