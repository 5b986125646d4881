"""The document fixtures of tests/fixtures/documents/, ready to load.

Written for these tests in the style of real documents (none is a copy of
one): a 国务院办公厅 notice, a provincial 办法 with chapters, articles and
items, a county policy converted from PDF to HTML, a docx with a reward
table, and two versions of one county policy, the newer repealing the older.

The docx is built from ``*.docx.txt`` (one paragraph per line; consecutive
tab-separated lines form one table), so no binary file is committed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

FIXTURES = Path(__file__).with_name("fixtures") / "documents"
DOCX_SOURCE = ".docx.txt"


def build_docx(source: Path, out: Path) -> Path:
    import docx

    d = docx.Document()
    lines = source.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        if "\t" in lines[i]:
            rows = []
            while i < len(lines) and "\t" in lines[i]:
                rows.append(lines[i].split("\t"))
                i += 1
            table = d.add_table(rows=len(rows), cols=max(len(r) for r in rows))
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    table.cell(r, c).text = value
            continue
        d.add_paragraph(lines[i])
        i += 1
    d.core_properties.title = "宜兴市工业和信息化局"  # a file property that is not the document's title
    d.save(str(out))
    return out


def fixture_folder(dest: Path) -> Path:
    """Copy the fixtures to ``dest`` (building the docx); returns ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for f in sorted(FIXTURES.iterdir()):
        if f.name.endswith(DOCX_SOURCE):
            build_docx(f, dest / (f.name[: -len(DOCX_SOURCE)] + ".docx"))
        else:
            shutil.copy(f, dest / f.name)
    return dest


def raw_lines(path: Path) -> list[str]:
    """The fixture's text as a reader sees it (for survival checks): text
    files as they are, HTML and docx through their readers."""
    from policyqa.corpus.readers import read_file

    return read_file(path)[0].text.splitlines()
