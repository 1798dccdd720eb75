"""A bulletin as PDF (HTML → WeasyPrint, the Noto CJK font embedded as a subset), Excel (.xlsx,
one sheet per table) and CSV (every table in one long list: 表格, 项目, 指标, 数值)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from core.clock import local
from reports.bulletin import Bulletin
from reports.charts import data_uri

TEMPLATES = Path(__file__).resolve().parent / "templates"
FORMATS = ("pdf", "xlsx", "csv")
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
# The PDF is for reading: long tables stop here (the Excel file and the CSV have every row).
PDF_ROWS = {"按村": 300}
PDF_ROWS_DEFAULT = 60
_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))


def bulletin_html(bulletin: Bulletin) -> str:
    return _env.get_template("bulletin.html").render(
        b=bulletin,
        charts=[(name, data_uri(svg)) for name, svg in bulletin.charts.items()],
        tables=[(t, t.rows[: PDF_ROWS.get(t.name, PDF_ROWS_DEFAULT)]) for t in bulletin.tables if t.rows],
        generated=f"{local(bulletin.generated_at):%Y-%m-%d %H:%M}",
    )


def to_pdf(bulletin: Bulletin) -> bytes:
    from weasyprint import HTML  # imported when used: it loads pango and a font cache

    return HTML(string=bulletin_html(bulletin), base_url=str(TEMPLATES)).write_pdf()


def to_xlsx(bulletin: Bulletin) -> bytes:
    from openpyxl import Workbook  # imported when used, as WeasyPrint: seconds at start-up otherwise
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="EFE9DD")
    for table in bulletin.tables:
        sheet = book.create_sheet(table.name)
        sheet.append(table.columns)
        for cell in sheet[1]:
            cell.font, cell.fill = bold, fill
        for row in table.rows:
            sheet.append(row)
        for n, column in enumerate(table.columns, start=1):
            longest = max([len(str(column)), *(len(str(r[n - 1])) for r in table.rows if r[n - 1] is not None)])
            sheet.column_dimensions[get_column_letter(n)].width = min(max(8, longest * 2 + 2), 60)
        sheet.freeze_panes = "A2"
    book.properties.title = bulletin.title
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_csv(bulletin: Bulletin) -> bytes:
    """Long format: one line per number, so one file holds every table and a script can read
    it. UTF-8 with a BOM so that Excel on Windows shows the Chinese."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["表格", "项目", "指标", "数值"])
    for table in bulletin.tables:
        for row in table.rows:
            for column, value in zip(table.columns[1:], row[1:], strict=True):
                writer.writerow([table.name, row[0], column, "" if value is None else value])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


RENDERERS: dict[str, Callable[[Bulletin], bytes]] = {"pdf": to_pdf, "xlsx": to_xlsx, "csv": to_csv}
