"""Tests for policyqa.corpus.readers: every format, every encoding, every bad input.

All fixtures are generated here in ``tmp_path``; no binary files are committed.
"""

from __future__ import annotations

import glob
import os
import site
import time
from pathlib import Path

import pytest

from policyqa.corpus.readers import (
    SUPPORTED,
    LoadError,
    RawDoc,
    decode_bytes,
    html_to_text,
    iter_files,
    read_file,
    read_file_report,
    read_paths,
)
from policyqa.corpus.types import Skipped

DOCUMENTS = Path(__file__).resolve().parents[1] / "corpus" / "documents"

SIMPLIFIED = (
    "一、总体要求\n"
    "对新认定为国家级、省级示范智能车间的企业，分别一次性奖励200万元、100万元。\n"
    "（一）支持企业技术改造，按设备投资额的10%给予补助，最高不超过500万元；"
    "牵头单位：市工业和信息化局（徐中小办发〔2023〕3号）。\n"
)
TRADITIONAL = (
    "一、總體要求\n"
    "對新認定為國家級、省級示範智能車間的企業，分別一次性獎勵200萬元、100萬元。\n"
    "「支持企業技術改造」，按設備投資額的10%給予補助，最高不超過500萬元。\n"
)
# "•" and "䶮" are outside GBK: GB18030 stores them as four-byte sequences.
GB18030_ONLY = SIMPLIFIED + "• 联系人：刘䶮，电话0527-84361234。\n"


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def load_error(path: Path, **kw) -> str:
    with pytest.raises(LoadError) as err:
        read_file(path, **kw)
    return str(err.value)


# ------------------------------------------------------------------ encodings


@pytest.mark.parametrize(
    ("text", "codec", "detected"),
    [
        (SIMPLIFIED, "gbk", "gb18030"),
        (GB18030_ONLY, "gb18030", "gb18030"),
        (TRADITIONAL, "big5", "cp950"),
        (SIMPLIFIED, "utf-8-sig", "utf-8-sig"),
        (SIMPLIFIED, "utf-16", "utf-16"),  # with BOM
        (TRADITIONAL, "utf-16-be", "utf-16"),  # BOM added below
        (SIMPLIFIED, "utf-8", "utf-8"),
    ],
)
def test_text_encodings_decode_to_the_exact_original(tmp_path, text, codec, detected):
    data = text.encode(codec)
    if codec == "utf-16-be":
        data = b"\xfe\xff" + data
    f = write(tmp_path / f"doc_{codec}.txt", data)
    [doc] = read_file(f)
    assert doc == RawDoc(f.name, text, str(f), "txt", "", {"encoding": detected})


def test_bomless_utf16_with_ascii_is_recognised_not_called_binary():
    text = "Policy No. 3: " + SIMPLIFIED
    assert decode_bytes(text.encode("utf-16-le")) == (text, "utf-16-le")


def test_crlf_newlines_become_lf(tmp_path):
    f = write(tmp_path / "crlf.txt", SIMPLIFIED.replace("\n", "\r\n").encode("gbk"))
    assert read_file(f)[0].text == SIMPLIFIED


def test_gbk_and_big5_are_never_confused_into_mojibake():
    sentence = "对新认定为国家级、省级示范智能车间的企业，分别一次性奖励200万元。"
    trad = "對新認定為國家級、省級示範智能車間的企業，分別一次性獎勵200萬元。"
    assert decode_bytes(sentence.encode("gbk"))[0] == sentence
    assert decode_bytes(trad.encode("big5"))[0] == trad
    # a wrong declaration (e.g. an HTML meta tag) does not win over a clean reading
    assert decode_bytes(trad.encode("big5"), declared="gbk")[0] == trad
    assert decode_bytes(sentence.encode("gbk"), declared="big5")[0] == sentence


def test_utf8_with_a_cut_off_last_character_still_reads_as_utf8():
    data = SIMPLIFIED.encode("utf-8")[:-2]  # cuts "\n" and half of "。"
    text, enc = decode_bytes(data)
    assert enc == "utf-8"
    assert text == SIMPLIFIED[:-2] + "\ufffd"


def test_markdown_is_kept_as_is_with_its_heading_as_title(tmp_path):
    md = "# 关于支持智能车间建设的若干措施\n\n- 奖励200万元\n- 奖励100万元\n"
    [doc] = read_file(write(tmp_path / "a.md", md.encode("gb18030")))
    assert (doc.text, doc.title, doc.fmt) == (md, "关于支持智能车间建设的若干措施", "md")


def test_seed_documents_read_as_exact_utf8():
    files = sorted(DOCUMENTS.glob("*.txt"))
    assert len(files) == 5
    docs, skipped = read_paths([DOCUMENTS])
    assert skipped == []
    assert [d.doc_id for d in docs] == [f.name for f in files]
    for doc, f in zip(docs, files):
        assert doc.text == f.read_bytes().decode("utf-8")
        assert (doc.fmt, doc.source, doc.meta) == ("txt", str(f), {"encoding": "utf-8"})
    assert docs[1].doc_id == "001_19db83a107069549.txt"


# ----------------------------------------------------------------------- html

PAGE = """<!DOCTYPE html>
<html><head><meta charset="{charset}">
<title>  关于印发《专精特新企业培育三年行动计划》的通知 </title>
<style>p {{ color: red }}</style><script>var x = "<p>不要</p>";</script></head>
<body>
<nav>首页 &gt; 政策文件</nav><header>网站标题</header>
<h1>专精特新企业培育</h1>
<div class="content"><p>第一条&nbsp;奖励200万元 &amp; 补助 &lt;script&gt;alert(1)&lt;/script&gt;</p>
<p>第二条<br>分两行</p>
<table><tr><th>项目</th><th>金额</th></tr><tr><td>智能车间</td><td>100万元</td></tr></table>
<ul><li>（一）加强协作</li><li>（二）强化服务</li></ul></div>
<!-- 注释 --><form>搜索<input></form><noscript>请启用脚本</noscript>
<footer>版权所有</footer></body></html>
"""
PAGE_TEXT = (
    "专精特新企业培育\n"
    "第一条\xa0奖励200万元 & 补助 <script>alert(1)</script>\n"
    "第二条\n分两行\n"
    "项目\t金额\n智能车间\t100万元\n"
    "（一）加强协作\n（二）强化服务"
)
PAGE_TITLE = "关于印发《专精特新企业培育三年行动计划》的通知"


@pytest.mark.parametrize(("charset", "codec"), [("utf-8", "utf-8"), ("gb2312", "gbk"), ("GBK", "gb18030")])
def test_html_drops_chrome_decodes_entities_and_reads_title(tmp_path, charset, codec):
    f = write(tmp_path / "page.html", PAGE.format(charset=charset).encode(codec))
    [doc] = read_file(f)
    assert (doc.text, doc.title, doc.fmt, doc.doc_id) == (PAGE_TEXT, PAGE_TITLE, "html", "page.html")


def test_html_big5_page_with_wrong_meta_charset_is_not_mojibake(tmp_path):
    page = f'<html><head><meta charset="gbk"></head><body><p>{TRADITIONAL}</p></body></html>'
    [doc] = read_file(write(tmp_path / "b.htm", page.encode("big5")))
    assert doc.text == TRADITIONAL.strip().replace("\n", " ")
    assert doc.meta == {"encoding": "cp950"}


def test_html_title_falls_back_to_first_h1():
    text, title = html_to_text("<body><h1> 宿州市 2023年 工作要点 </h1><p>正文</p><h1>另一个</h1></body>")
    assert (text, title) == ("宿州市 2023年 工作要点\n正文\n另一个", "宿州市 2023年 工作要点")


def test_html_deep_nesting_does_not_crash():
    assert html_to_text("<div>" * 3000 + "深层" + "</div>" * 3000) == ("深层", "")


def test_html_without_visible_text_is_reported(tmp_path):
    f = write(tmp_path / "blank.html", "<html><head><title>t</title><script>x()</script></head><body> </body></html>")
    assert load_error(f) == "skipped 'blank.html': no text found"


# ----------------------------------------------------------------------- docx


def test_docx_paragraphs_and_table_in_document_order(tmp_path):
    docx = pytest.importorskip("docx")
    d = docx.Document()
    d.core_properties.title = "智能车间奖励办法"
    d.add_paragraph("第一条 对新认定为国家级示范智能车间的企业，奖励200万元。")
    table = d.add_table(rows=2, cols=3)
    for i, row in enumerate([["项目", "金额", "备注"], ["省级智能车间", "100万元", "一次性"]]):
        for j, value in enumerate(row):
            table.cell(i, j).text = value
    d.add_paragraph("")
    d.add_paragraph("第二条 本办法自2023年1月1日起施行。")
    f = tmp_path / "办法.docx"
    d.save(str(f))
    [doc] = read_file(f)
    assert doc.text == (
        "第一条 对新认定为国家级示范智能车间的企业，奖励200万元。\n"
        "项目\t金额\t备注\n"
        "省级智能车间\t100万元\t一次性\n"
        "第二条 本办法自2023年1月1日起施行。"
    )
    assert (doc.title, doc.fmt, doc.doc_id) == ("智能车间奖励办法", "docx", "办法.docx")


def test_corrupt_docx_and_old_doc_are_reported(tmp_path):
    assert load_error(write(tmp_path / "b.docx", b"PK\x03\x04" + b"garbage" * 50)) == (
        "skipped 'b.docx': not a valid .docx (corrupt zip)"
    )
    old_doc = write(tmp_path / "old.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    assert load_error(old_doc) == "skipped 'old.docx': not a valid .docx (looks like an old Word .doc; save it as .docx)"


def test_zip_that_is_not_a_docx_is_reported(tmp_path):
    import zipfile

    f = tmp_path / "sheet.docx"
    with zipfile.ZipFile(f, "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
    assert load_error(f) == "skipped 'sheet.docx': not a valid .docx (no word/document.xml; a renamed file?)"


# ------------------------------------------------------------------------ pdf

CJK_FONT_NAMES = ("wqy-microhei.ttc", "wqy-zenhei.ttc", "NotoSansCJK*", "NotoSerifCJK*", "NotoSansSC*",
                  "SourceHanSans*", "DroidSansFallback*")


def find_cjk_font() -> str | None:
    """A font file on this machine that has glyphs for our Chinese test text."""
    from fontTools.ttLib import TTFont

    roots = ["/usr/share/fonts", "/usr/local/share/fonts", *site.getsitepackages()]
    for root in roots:
        for name in CJK_FONT_NAMES:
            for path in sorted(glob.glob(f"{root}/**/{name}", recursive=True)):
                try:
                    cmap = TTFont(path, fontNumber=0, lazy=True).getBestCmap()
                except Exception:
                    continue
                if all(ord(c) in cmap for c in "对新认定奖励万元（）、。"):
                    return path
    return None


def make_pdf(path: Path, lines: list[str], font: str | None = None, **encryption) -> Path:
    fpdf = pytest.importorskip("fpdf")
    pdf = fpdf.FPDF()
    pdf.add_page()
    if font:
        pdf.add_font("cjk", fname=font)
        pdf.set_font("cjk", size=11)
    else:
        pdf.set_font("helvetica", size=11)
    for line in lines:
        pdf.cell(text=line, new_x="LMARGIN", new_y="NEXT")
    if encryption:
        from fpdf.enums import EncryptionMethod

        pdf.set_encryption(encryption_method=EncryptionMethod.RC4, **encryption)
    pdf.output(str(path))
    return path


def test_ascii_pdf_reads_page_text(tmp_path):
    lines = ["Article 1. Enterprises recognised as smart workshops receive 2,000,000 yuan.",
             "Article 2. This policy is valid from 2023 to 2025."]
    [doc] = read_file(make_pdf(tmp_path / "policy.pdf", lines))
    assert (doc.text, doc.fmt, doc.doc_id) == ("\n".join(lines), "pdf", "policy.pdf")


def test_cjk_pdf_reads_exact_chinese_text(tmp_path):
    font = find_cjk_font()
    if font is None:
        pytest.skip("no CJK font installed (apt-get install fonts-wqy-microhei)")
    lines = ["对新认定为国家级、省级示范智能车间的企业，分别一次性奖励200万元、100万元。",
             "（一）支持企业技术改造，按设备投资额的10%给予补助。"]
    [doc] = read_file(make_pdf(tmp_path / "政策.pdf", lines, font=font))
    assert doc.text == "\n".join(lines)


def test_encrypted_pdf_needs_password_unless_user_password_is_empty(tmp_path):
    locked = make_pdf(tmp_path / "locked.pdf", ["secret"], owner_password="o", user_password="u")
    assert load_error(locked) == "skipped 'locked.pdf': PDF is encrypted (password required)"
    owner_only = make_pdf(tmp_path / "owner.pdf", ["open to read"], owner_password="o")
    assert read_file(owner_only)[0].text == "open to read"


def test_pdf_without_text_layer_is_reported(tmp_path):
    fpdf = pytest.importorskip("fpdf")
    pdf = fpdf.FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 50, style="F")  # a "scan": graphics only
    pdf.output(str(tmp_path / "scan.pdf"))
    assert load_error(tmp_path / "scan.pdf") == "skipped 'scan.pdf': no text layer (scanned PDF?)"


def test_corrupt_pdfs_are_reported(tmp_path):
    assert load_error(write(tmp_path / "x.pdf", os.urandom(4000))) == "skipped 'x.pdf': not a valid PDF (no %PDF header)"
    msg = load_error(write(tmp_path / "y.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog" + os.urandom(2000)))
    assert msg.startswith("skipped 'y.pdf': not a valid PDF (")


# ---------------------------------------------------------------------- jsonl


def test_jsonl_bad_lines_are_reported_with_line_numbers_and_others_load(tmp_path):
    f = write(
        tmp_path / "docs.jsonl",
        '{"id": "a1", "text": "第一篇：奖励200万元。", "title": "甲", "region": "徐州", "year": 2023}\n'
        "{not json}\n"
        "\n"
        '{"id": "a2", "text": "第二篇。"}\n'
        '{"text": "no id"}\n'
        '["a list"]\n'
        '{"id": "a3", "text": "   "}\n',
    )
    docs, problems = read_file_report(f)
    assert docs == [
        RawDoc("a1", "第一篇：奖励200万元。", f"{f}:1", "jsonl", "甲", {"region": "徐州", "year": 2023}),
        RawDoc("a2", "第二篇。", f"{f}:4", "jsonl"),
    ]
    assert [p.reason for p in problems] == [
        "skipped 'docs.jsonl' line 2: invalid JSON (Expecting property name enclosed in double quotes at column 2)",
        "skipped 'docs.jsonl' line 5: missing or empty \"id\"",
        "skipped 'docs.jsonl' line 6: expected a JSON object, got list",
        "skipped 'docs.jsonl' line 7: missing or empty \"text\"",
    ]
    assert all(p.path == str(f) for p in problems)
    assert read_file(f) == docs  # read_file raises nothing for partial problems


def test_jsonl_record_over_the_size_limit_is_one_bad_line(tmp_path):
    f = write(tmp_path / "big.jsonl", '{"id": "x", "text": "' + "长" * 400 + '"}\n{"id": "y", "text": "短"}\n')
    docs, problems = read_file_report(f, max_bytes=1000)
    assert [d.doc_id for d in docs] == ["y"]
    assert [p.reason for p in problems] == ["skipped 'big.jsonl' line 1: record larger than the 0.001 MB limit"]


def test_duplicate_ids_keep_the_first_and_skip_the_second(tmp_path):
    write(tmp_path / "a.jsonl", '{"id": "001_x.txt", "text": "来自jsonl"}\n')
    write(tmp_path / "b" / "001_x.txt", "来自文本文件")
    docs, skipped = read_paths([tmp_path])
    assert [(d.doc_id, d.text) for d in docs] == [("001_x.txt", "来自jsonl")]
    assert skipped == [
        Skipped(
            str(tmp_path / "b" / "001_x.txt"),
            f"skipped '001_x.txt': duplicate document id '001_x.txt' (already loaded from {tmp_path / 'a.jsonl'}:1)",
        )
    ]


# ------------------------------------------------------------- bad files & folders


def test_a_folder_of_bad_files_skips_each_once_and_loads_the_rest(tmp_path):
    good = write(tmp_path / "001_good.txt", SIMPLIFIED.encode("gbk"))
    write(tmp_path / "a.txt", b"\x00\x01\x02binary" * 100)
    write(tmp_path / "b.docx", os.urandom(3000))
    write(tmp_path / "c.pdf", b"%PDF-1.7\n%garbage\n")
    write(tmp_path / "e.txt", b"")
    write(tmp_path / "f.md", " \n\t\n　\n")
    write(tmp_path / "g.html", os.urandom(3000).replace(b"\x00", b"") + b"\x00")
    write(tmp_path / "ignored.xlsx", b"PK")  # unsupported types in folders are not listed
    write(tmp_path / ".hidden.txt", "隐藏文件")
    write(tmp_path / ".git" / "x.txt", "隐藏目录")
    xlsx = write(tmp_path.parent / f"{tmp_path.name}_c.xlsx", b"PK")  # named explicitly: reported
    docs, skipped = read_paths([tmp_path, xlsx])
    assert [d.doc_id for d in docs] == [good.name]
    assert docs[0].text == SIMPLIFIED
    reasons = {Path(s.path).name: s.reason for s in skipped}
    assert len(skipped) == len(reasons) == 7
    assert reasons["a.txt"] == "skipped 'a.txt': looks binary (NUL bytes), not text"
    assert reasons["b.docx"] == "skipped 'b.docx': not a valid .docx (corrupt zip)"
    assert reasons["c.pdf"].startswith("skipped 'c.pdf': not a valid PDF (")
    assert reasons["e.txt"] == "skipped 'e.txt': empty file"
    assert reasons["f.md"] == "skipped 'f.md': empty file (only whitespace)"
    assert reasons["g.html"] == "skipped 'g.html': looks binary (NUL bytes), not text"
    assert reasons[xlsx.name] == (
        f"skipped '{xlsx.name}': unsupported type .xlsx "
        "(supported: .txt, .md, .html, .htm, .docx, .pdf, .jsonl)"
    )


def test_fifty_megabyte_file_is_skipped_by_size_at_once(tmp_path):
    f = tmp_path / "big.txt"
    with open(f, "wb") as fh:
        fh.truncate(50_000_000)  # sparse: instant to create
    start = time.perf_counter()
    docs, skipped = read_paths([f])
    elapsed = time.perf_counter() - start
    assert docs == []
    assert skipped == [Skipped(str(f), "skipped 'big.txt': 50.0 MB exceeds the 20 MB limit")]
    assert elapsed < 0.2


def test_random_garbage_under_every_extension_never_crashes(tmp_path):
    rng = __import__("random").Random(7)
    for i, ext in enumerate(SUPPORTED * 3):
        data = bytes(rng.randrange(256) for _ in range(rng.choice([3, 200, 5000])))
        f = write(tmp_path / f"junk{i}{ext}", data)
        try:
            read_file_report(f)
        except LoadError as e:
            assert str(e).startswith(f"skipped '{f.name}': ") and "\n" not in str(e)


def test_random_bytes_named_txt_are_not_returned_as_mojibake(tmp_path):
    f = write(tmp_path / "r.txt", bytes(range(1, 256)) * 4)
    assert load_error(f).startswith("skipped 'r.txt': looks binary")


def test_directory_named_like_a_file_and_missing_file(tmp_path):
    (tmp_path / "x.txt").mkdir()
    assert load_error(tmp_path / "x.txt") == "skipped 'x.txt': is a directory, not a file"
    assert load_error(tmp_path / "nope.txt") == "skipped 'nope.txt': no such file"


def test_fifo_is_reported_not_read(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    os.mkfifo(tmp_path / "pipe.txt")
    assert load_error(tmp_path / "pipe.txt") == "skipped 'pipe.txt': not a regular file (device, pipe or socket)"
    assert iter_files([tmp_path]) == []


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root can read chmod 000 files")
def test_unreadable_file_is_reported(tmp_path):
    f = write(tmp_path / "locked.txt", "内容")
    f.chmod(0)
    try:
        assert load_error(f) == "skipped 'locked.txt': cannot read (permission denied)"
    finally:
        f.chmod(0o644)


def test_iter_files_is_recursive_sorted_and_skips_hidden(tmp_path):
    for name in ["b/2.txt", "b/1.PDF", "a.md", "c/.d/x.txt", ".e.txt", "z.csv", "a/deep/3.jsonl"]:
        write(tmp_path / name, "x")
    explicit = write(tmp_path / "z.csv", "x")
    assert iter_files([tmp_path, explicit, tmp_path / "a.md"]) == [
        tmp_path / "a.md",
        tmp_path / "a" / "deep" / "3.jsonl",
        tmp_path / "b" / "1.PDF",
        tmp_path / "b" / "2.txt",
        explicit,
    ]


def test_load_error_message_is_one_line():
    err = LoadError(Path("/some/dir/x.pdf"), "PDF is encrypted (password required)")
    assert str(err) == "skipped 'x.pdf': PDF is encrypted (password required)"
    assert (err.path, err.problem) == ("/some/dir/x.pdf", "PDF is encrypted (password required)")


def test_repeated_nul_pattern_is_binary_not_utf16(tmp_path):
    from policyqa.corpus.readers import LoadError, read_file

    p = tmp_path / "x.txt"
    p.write_bytes(b"\x00\xff" * 100)
    with pytest.raises(LoadError, match="binary"):
        read_file(p)
