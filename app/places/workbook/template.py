"""The empty template with its instructions sheet."""
from __future__ import annotations

import io

from .sheets import SHEETS


def template_workbook() -> bytes:
    """An empty workbook with every sheet and header, and a first sheet that explains them."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    guide = book.active
    guide.title = "說明"
    guide.column_dimensions["A"].width = 14
    guide.column_dimensions["B"].width = 100
    lines = [("巡查 Xuncha 小區資料表", ""),
             ("", "填好各表後，在「小區資料」頁面上傳，或執行 flask import-estate 檔案.xlsx。"),
             ("", "先用「只檢查」：每個問題都會列出表、行、欄；有任何問題時不會儲存任何資料。"),
             ("", "同一個檔案再匯入不會有任何改變；改過的檔案按代碼更新，改動記入審計日誌。已有記錄的地點不會被刪除。"),
             ("", "欄名可用中文或括號內的英文。公式按檔案中的值讀取，不會計算。請勿合併儲存格。"), ("", "")]
    lines += [(s.zh, s.help) for s in SHEETS]
    for row in lines:
        guide.append(row)
    guide["A1"].font = Font(bold=True, size=14)
    for cell in guide["B"]:
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    lists = {("units", "state"): ["自住", "出租", "空置", "裝修中"],
             ("units", "reason"): ["未售", "未收房", "開發商留存", "糾紛", "查封"],
             ("areas", "kind"): ["道路", "綠化", "兒童遊樂場", "商鋪", "車庫"],
             ("assets", "kind"): ["電梯", "入戶門"], ("meters", "kind"): ["水", "電"],
             ("owners", "relation"): ["業主", "住戶", "租客"]}
    for sheet in SHEETS:
        ws = book.create_sheet(sheet.zh)
        ws.append([f"{c.zh} ({c.en})" for c in sheet.columns])
        for i, column in enumerate(sheet.columns, start=1):
            cell = ws.cell(row=1, column=i)
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="FFF2CC" if column.required else "EEEEEE")
            ws.column_dimensions[cell.column_letter].width = max(12, len(column.en) + 8)
            choices = lists.get((sheet.key, column.key))
            if choices:
                dv = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True)
                ws.add_data_validation(dv)
                dv.add(f"{cell.column_letter}2:{cell.column_letter}100000")
        ws.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
