"""Units (單元): search by room, a unit's page with its confidential owner contacts, its history.

search   a room number among the buildings the user covers
history  every round, finding, ticket and decoration record of a unit, oldest first
views    blueprint "units" (URLs under /desk, kept from before)
"""
