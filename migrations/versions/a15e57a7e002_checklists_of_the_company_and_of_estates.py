"""Checklists of the company and of estates: which versions were published in the browser, for the
company or for one estate (checklist_publication), and which estates walk their own
(estate_checklist)

Revision ID: a15e57a7e002
Revises: a15e57a7e001
Create Date: 2026-12-07 19:16:41.783492

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a15e57a7e002'
down_revision = 'a15e57a7e001'
branch_labels = None
depends_on = None


def upgrade():
    # Two new tables: checklist_version, which rounds and items point at, keeps its columns.
    op.create_table('checklist_publication',
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('estate_id', sa.Integer(), nullable=True),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_checklist_publication_estate_id_estate')),
    sa.ForeignKeyConstraint(['published_by_id'], ['user.id'], name=op.f('fk_checklist_publication_published_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['version_id'], ['checklist_version.id'], name=op.f('fk_checklist_publication_version_id_checklist_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('version_id', name=op.f('pk_checklist_publication'))
    )
    op.create_index(op.f('ix_checklist_publication_estate_id'), 'checklist_publication', ['estate_id'], unique=False)
    op.create_table('estate_checklist',
    sa.Column('estate_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('corridor', 'facility', 'vacant_unit', 'decoration', 'meter', name='roundkind', native_enum=False, length=19), nullable=False),
    sa.Column('own', sa.Boolean(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['changed_by_id'], ['user.id'], name=op.f('fk_estate_checklist_changed_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_estate_checklist_estate_id_estate'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('estate_id', 'kind', name=op.f('pk_estate_checklist'))
    )


def downgrade():
    # Versions published in the browser stay, as company versions (the table saying whose they were goes).
    op.drop_table('estate_checklist')
    op.drop_index(op.f('ix_checklist_publication_estate_id'), table_name='checklist_publication')
    op.drop_table('checklist_publication')
