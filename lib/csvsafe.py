"""CSV that a spreadsheet opens as data: no cell of it runs as a formula.

A text cell starting with = + - @ tab or CR gets a leading ' (OWASP's CSV injection rule);
every text cell is quoted and numbers are written bare, so a spreadsheet reads them as
numbers.  A text that is a plain number ('-42') is one already: it is left as it is.

    out = io.StringIO()
    w = csvsafe.writer(out)
    w.writerow(['label', 'down_bytes'])
    w.writerow(['=HYPERLINK(...)', 1024])         # "'=HYPERLINK(...)",1024
"""
import csv
import re

FORMULA_START = ('=', '+', '-', '@', '\t', '\r')
_NUMBER = re.compile(r'[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\Z')


def cell(value):
    """The value as it may go into a CSV cell: a text a spreadsheet would run, prefixed with '."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _NUMBER.match(value):
        return "'" + value
    return value


class writer:
    """csv.writer's writerow, every text cell made safe by cell() and quoted."""

    def __init__(self, out):
        self._writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC)

    def writerow(self, row):
        self._writer.writerow(['' if value is None else cell(value) for value in row])
