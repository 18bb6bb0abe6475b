"""Places can be retired (never deleted once they have history); users can be made to choose a new
password at their next sign-in (an administrator's reset)

Revision ID: a15e57a7e000
Revises: 8c4d2e6f1a90
Create Date: 2026-12-07 18:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a15e57a7e000'
down_revision = '8c4d2e6f1a90'
branch_labels = None
depends_on = None

PLACES = ('estate', 'building', 'entrance', 'unit', 'public_area', 'asset', 'meter')


def upgrade():
    # Plain ALTER TABLE … ADD COLUMN on every database: no table is copied, no foreign key disturbed.
    for table in PLACES:
        op.add_column(table, sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('user', sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(),
                                    nullable=False))


def downgrade():
    # Plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35 has it): copying these tables, as batch mode
    # would, breaks the foreign keys of the rows that point at them.
    op.drop_column('user', 'must_change_password')
    for table in reversed(PLACES):
        op.drop_column(table, 'retired_at')
