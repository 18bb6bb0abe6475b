"""The steward's investigations of complaints sent from the phone (stored once by UUID); a round finding's resident violation mark

Revision ID: 5e1c0f3a9b27
Revises: 47e8e4c5ab67
Create Date: 2026-12-08 02:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e1c0f3a9b27'
down_revision = '47e8e4c5ab67'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('complaint_investigation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=False),
    sa.Column('photo_uuids', sa.JSON(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('applied', sa.Boolean(), nullable=False),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['by_id'], ['user.id'], name=op.f('fk_complaint_investigation_by_id_user')),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaint.id'], name=op.f('fk_complaint_investigation_complaint_id_complaint'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint_investigation')),
    sa.UniqueConstraint('uuid', name=op.f('uq_complaint_investigation_uuid'))
    )
    with op.batch_alter_table('complaint_investigation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_investigation_complaint_id'), ['complaint_id'], unique=False)

    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resident_violation', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.drop_column('resident_violation')

    with op.batch_alter_table('complaint_investigation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_investigation_complaint_id'))

    op.drop_table('complaint_investigation')
