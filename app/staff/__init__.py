"""Staff (人員): the people who work in the estates, kept company-wide by the administrator (系統管理員).

accounts   create a user, change their name, role and assignment (estates, buildings), reset a
           password (chosen anew at the next sign-in), deactivate (every session ends at once) and
           reactivate; the last active administrator stays; every change of assignment is written
           into its history (AssignmentPeriod), which the summaries read
covers     covers for leave: 林小華 covers 陳小明's places from one day to another; ending one early
forms      the pages' forms, and the assignment part read from the posted form
views      the administrator's pages (blueprint "staff", /admin/staff)

Every operation works in the caller's transaction and refuses (app/refusals.py) before it changes
anything; a page that showed a user sends a fingerprint of what it showed, and a change made by
someone else meanwhile is refused instead of overwritten.
"""
