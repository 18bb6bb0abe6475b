"""decoration numbering counter, one running flood test per wet area, the unit's vacancy reason kept through a decoration

Revision ID: c261d30f2100
Revises: 2fbbd8653aa2
Create Date: 2026-11-27 04:24:17.270845

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c261d30f2100'
down_revision = '2fbbd8653aa2'
branch_labels = None
depends_on = None


def upgrade():

    op.create_table('decoration_counter',
    sa.Column('prefix', sa.String(length=8), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('prefix', 'day', name=op.f('pk_decoration_counter'))
    )
    with op.batch_alter_table('decoration_permit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prior_vacancy_reason', sa.Enum('unsold', 'keys_not_collected', 'developer_held', 'dispute', 'seized', 'other', name='vacancyreason', native_enum=False, length=26), nullable=True))

    with op.batch_alter_table('flood_test', schema=None) as batch_op:
        batch_op.create_index('ux_flood_test_running_area', ['unit_id', 'wet_area'], unique=True, sqlite_where=sa.text("status = 'running'"), postgresql_where=sa.text("status = 'running'"))




def downgrade():

    with op.batch_alter_table('flood_test', schema=None) as batch_op:
        batch_op.drop_index('ux_flood_test_running_area', sqlite_where=sa.text("status = 'running'"), postgresql_where=sa.text("status = 'running'"))

    with op.batch_alter_table('decoration_permit', schema=None) as batch_op:
        batch_op.drop_column('prior_vacancy_reason')

    op.drop_table('decoration_counter')

