"""Every round and repair ticket of a place in a building names that building

A unit's round started before rounds carried their unit's building, and a ticket opened by a
facility round's defect at a stairwell's door, intercom or elevator, had no building: staff
assigned to that building could not see them. Filled in from the place; nothing else changes.

Revision ID: 8c4d2e6f1a90
Revises: 5e1f0a7c3b21
Create Date: 2026-11-27 14:40:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '8c4d2e6f1a90'
down_revision = '5e1f0a7c3b21'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("""
        UPDATE round SET building_id = (SELECT unit.building_id FROM unit WHERE unit.id = round.unit_id)
        WHERE building_id IS NULL AND unit_id IS NOT NULL
    """)
    # A ticket's place, in the order Finding.building reads it: stairwell, its equipment, unit, meter.
    op.execute("""
        UPDATE repair_ticket SET building_id = COALESCE(
            (SELECT entrance.building_id FROM entrance WHERE entrance.id = repair_ticket.entrance_id),
            (SELECT entrance.building_id FROM asset JOIN entrance ON entrance.id = asset.entrance_id
             WHERE asset.id = repair_ticket.asset_id),
            (SELECT unit.building_id FROM unit WHERE unit.id = repair_ticket.unit_id),
            (SELECT COALESCE(unit.building_id, meter.building_id) FROM meter LEFT JOIN unit ON unit.id = meter.unit_id
             WHERE meter.id = repair_ticket.meter_id))
        WHERE building_id IS NULL
    """)


def downgrade():
    pass  # the buildings filled in are true; there is nothing to undo
