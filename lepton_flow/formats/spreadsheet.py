"""Spreadsheets (Excel `.xlsx`, `.xlsm`, `.xlsb`, `.xls`; OpenDocument `.ods`): the first sheet that holds cells, read as a CSV export of it.

The sheet comes through `sources.open_source` as CSV text (python-calamine
reads the workbook), so everything the CSV reader knows applies: a title
block before the header, a units row after it, long or wide layouts,
spelled-out headers, a date column beside a time column. Line numbers in
quarantine are the sheet's row numbers. A cell holding an error value
(`#DIV/0!`, `#N/A`) is empty to the reader: no reading. A workbook is read whole (sheets
are at most about a million rows) and is known by its content: it does not
tail.
"""

from __future__ import annotations

from lepton_flow.formats import SensorFormat, register_format
from lepton_flow.formats.csv import pieces, read
from lepton_flow.sources import SPREADSHEET_SUFFIXES


def example(path: str) -> None:
    """A small workbook: a header and readings, times as Excel date-times (written with openpyxl, a test dependency)."""
    from datetime import datetime

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Timestamp", "sensor_id", "Temperature (°C)", "Pressure (hPa)"])
    for minute in range(3):
        sheet.append([datetime(2026, 1, 1, 0, minute), "pump-1", 20.5 + minute / 10, 1013.25])
    book.save(path)


FORMAT = register_format(SensorFormat("spreadsheet", SPREADSHEET_SUFFIXES, read, example, __doc__.splitlines()[0], pieces=pieces))
