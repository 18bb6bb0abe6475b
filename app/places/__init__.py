"""Places (小區, 樓棟, 梯, 單元, 公共區域, 設施, 表計, 業主): bringing a company's estates into service and
keeping them, company-wide, by the administrator (系統管理員).

workbook    the estate workbook (.xlsx): its template, reading within bounds, checking every row,
            storing it all or nothing; the same file again changes nothing
operations  add, edit and retire each kind of place; a place with history is retired, never deleted
views       the administrator's pages (blueprint "places", /admin/places)
"""
