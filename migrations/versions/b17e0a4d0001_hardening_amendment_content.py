"""finding_amendment.content_sha256: a correction is idempotent by the UUID its client made

Revision ID: b17e0a4d0001
Revises: 6279d7c31457
Create Date: 2026-12-07 23:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b17e0a4d0001'
down_revision = '6279d7c31457'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('finding_amendment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_sha256', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('finding_amendment', schema=None) as batch_op:
        batch_op.drop_column('content_sha256')
