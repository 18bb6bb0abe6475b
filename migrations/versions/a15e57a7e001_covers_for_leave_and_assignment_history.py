"""Covers for leave (leave_cover) and the history of who was assigned where (assignment_period), with a
first row for every assignment held today

Revision ID: a15e57a7e001
Revises: a15e57a7e000
Create Date: 2026-12-07 18:54:59.028440

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a15e57a7e001'
down_revision = 'a15e57a7e000'
branch_labels = None
depends_on = None


def upgrade():
    # New tables and plain CREATE INDEX: nothing existing is copied.
    op.create_table('leave_cover',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cover_id', sa.Integer(), nullable=False),
    sa.Column('covered_id', sa.Integer(), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('last_day', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('cover_id <> covered_id', name=op.f('ck_leave_cover_cover_not_oneself')),
    sa.CheckConstraint('first_day <= last_day', name=op.f('ck_leave_cover_cover_days_in_order')),
    sa.ForeignKeyConstraint(['cover_id'], ['user.id'], name=op.f('fk_leave_cover_cover_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['covered_id'], ['user.id'], name=op.f('fk_leave_cover_covered_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_leave_cover_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ended_by_id'], ['user.id'], name=op.f('fk_leave_cover_ended_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_leave_cover'))
    )
    op.create_index(op.f('ix_leave_cover_cover_id'), 'leave_cover', ['cover_id'], unique=False)
    op.create_index(op.f('ix_leave_cover_covered_id'), 'leave_cover', ['covered_id'], unique=False)

    op.create_table('assignment_period',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('estate_id', sa.Integer(), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['building_id'], ['building.id'], name=op.f('fk_assignment_period_building_id_building'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_assignment_period_estate_id_estate'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_assignment_period_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignment_period'))
    )
    op.create_index('ix_assignment_period_estate_user', 'assignment_period', ['estate_id', 'user_id'], unique=False)
    op.create_index(op.f('ix_assignment_period_user_id'), 'assignment_period', ['user_id'], unique=False)

    # Every assignment held now gets its first row: held since before this history was kept
    # (started_at NULL), still held (ended_at NULL).
    op.execute(
        "INSERT INTO assignment_period (user_id, estate_id, building_id, started_at, ended_at) "
        "SELECT user_id, estate_id, NULL, NULL, NULL FROM user_estate"
    )
    op.execute(
        "INSERT INTO assignment_period (user_id, estate_id, building_id, started_at, ended_at) "
        "SELECT ub.user_id, b.estate_id, ub.building_id, NULL, NULL "
        "FROM user_building ub JOIN building b ON b.id = ub.building_id"
    )


def downgrade():
    op.drop_index(op.f('ix_assignment_period_user_id'), table_name='assignment_period')
    op.drop_index('ix_assignment_period_estate_user', table_name='assignment_period')
    op.drop_table('assignment_period')
    op.drop_index(op.f('ix_leave_cover_covered_id'), table_name='leave_cover')
    op.drop_index(op.f('ix_leave_cover_cover_id'), table_name='leave_cover')
    op.drop_table('leave_cover')
