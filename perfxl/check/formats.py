"""Tell what a returned file is from its first bytes (never its extension) and read it accordingly.

An .xlsx/.xlsm (OOXML zip) is read by ``xlsxread``; an .ods (OpenDocument zip) and an old .xls
(OLE2 compound file) by ``calread`` (values only). An OLE2 file that is an encrypted workbook,
and files that are no spreadsheet at all (PDF, a web page, a Word document …), get a reason that
says what they are and what to send instead.
"""

from __future__ import annotations

import os

from perfxl.check.calread import read_values
from perfxl.check.limits import Budget, Limits
from perfxl.check.package import BAD, OLE_MAGIC, Package, XlsxReadError
from perfxl.check.xlsxread import Workbook, read_xlsx

_ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
_ENCRYPTED = ("EncryptedPackage".encode("utf-16-le"), "EncryptionInfo".encode("utf-16-le"))
_RESAVE = "请用 Excel/WPS 打开后另存为 .xlsx 重新报送"
_OTHER = (
    (b"%PDF", "这是 PDF 文件，不是工作簿；请报送财政部门下发的 Excel 模板填好后的 .xlsx 文件"),
    (b"{\\rtf", "这是 RTF 文字文档，不是工作簿；请报送填好的 .xlsx 文件"),
    (b"\x89PNG", "这是图片（PNG），不是工作簿；请报送填好的 .xlsx 文件，不要报送截图或照片"),
    (b"\xff\xd8\xff", "这是图片（JPEG），不是工作簿；请报送填好的 .xlsx 文件，不要报送截图或照片"),
    (b"Rar!", "这是 RAR 压缩包，不是工作簿；请解压后报送其中的 .xlsx 文件"),
    (b"7z\xbc\xaf", "这是 7z 压缩包，不是工作簿；请解压后报送其中的 .xlsx 文件"),
)


def read_workbook(data: bytes, path: str | os.PathLike[str], limits: Limits, budget: Budget) -> Workbook:
    """The workbook in ``data`` (the bytes of ``path``), whatever spreadsheet format it is in."""
    if data[:8] == OLE_MAGIC:
        if any(marker in data for marker in _ENCRYPTED):
            raise XlsxReadError(
                "工作簿设置了打开密码（已加密），无法读取；请在 Excel/WPS 中取消密码（文件→信息→保护工作簿→"
                "用密码进行加密，清空密码）后另存为 .xlsx 重新报送"
            )
        return read_values(data, "xls", limits, budget)
    if data[:2] == b"PK":
        with Package(data, limits, budget) as pkg:
            mime = pkg.read("mimetype") if pkg.find("mimetype") is not None else None
        if mime is not None and mime.strip().startswith(_ODS_MIME):
            return read_values(data, "ods", limits, budget)
        if mime is not None and mime.startswith(b"application/vnd.oasis.opendocument"):
            raise XlsxReadError(BAD + "这是 OpenDocument 文字或演示文档，不是电子表格；" + _RESAVE)
        return read_xlsx(data, limits, budget)
    head = data[:1024].lstrip().lower()
    for magic, reason in _OTHER:
        if data.startswith(magic):
            raise XlsxReadError(BAD + reason)
    if head.startswith((b"<!doctype html", b"<html", b"<table", b"<?xml")) or b"<html" in head:
        raise XlsxReadError(
            BAD + "这是网页（HTML）或 XML 文件改了扩展名（有些系统导出的“Excel”其实是网页）；" + _RESAVE
        )
    return read_xlsx(data, limits, budget)  # says it is no zip archive
