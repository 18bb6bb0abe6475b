"""Rules on one value (an ID number, a phone number, text a person typed), shared with the place pages' forms."""
from __future__ import annotations

import re
from datetime import date

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
HKID = re.compile(r"^([A-Z]{1,2})(\d{6})\(?([0-9A])\)?$")
NOT_TEXT = re.compile("[\x00\ud800-\udfff]")  # a NUL or half of a character: not text a person typed
PHONE = re.compile(r"^\+?[0-9][0-9 \-]{4,30}$")


def valid_id_number(text: str) -> bool:
    """A mainland resident ID (18 characters, its birth date and check digit right) or a Hong Kong
    identity card number (its check digit right)."""
    text = text.strip().upper()
    if re.fullmatch(r"\d{17}[\dX]", text):
        try:
            born = date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
        except ValueError:
            return False
        total = sum(int(d) * w for d, w in zip(text[:17], ID_WEIGHTS))
        return ID_CHECK[total % 11] == text[17] and date(1900, 1, 1) <= born
    m = HKID.fullmatch(text)
    if m:
        letters, digits, check = m.groups()
        values = ([36] if len(letters) == 1 else []) + [ord(c) - 55 for c in letters] + [int(d) for d in digits]
        total = sum(v * w for v, w in zip(values, range(9, 1, -1)))
        expected = (11 - total % 11) % 11
        return check == ("A" if expected == 10 else str(expected))
    return False
