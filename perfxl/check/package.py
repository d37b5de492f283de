"""The zip container of a returned workbook, opened and inflated within the limits.

:mod:`zipfile` reads the central directory (after the archive's size and the directory's own
size and member count are checked, since zipfile builds an object per member up front); members
are then inflated here with :func:`zlib.decompressobj`, chunk by chunk, counting what comes out
against the per-member size, the total size and the compression ratio *while inflating*. The
sizes an archive declares are never trusted: a member that inflates to more than it said, or
whose CRC-32 is wrong, is refused. Only "stored" and "deflate" members (all that Office, WPS and
LibreOffice write) are read; encrypted members are refused.
"""

from __future__ import annotations

import io
import os
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from typing import BinaryIO

from perfxl.check.limits import LIMITS, Budget, LimitExceeded, Limits
from perfxl.oserror import os_reason

__all__ = ["OLE_MAGIC", "Package", "XlsxReadError", "read_source"]

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE2 compound file: .xls, .et, or an encrypted .xlsx
BAD = "不是有效的 xlsx 文件："
CHUNK = 64 * 1024  # compressed bytes read, and uncompressed bytes produced, per step

_EOCD = struct.Struct("<4s4H2LH")  # end of central directory
_EOCD64_LOCATOR = struct.Struct("<4sLQL")
_EOCD64 = struct.Struct("<4sQ2H2L4Q")
_LOCAL = struct.Struct("<4s2B4HL2L2H")  # local file header
_DIRECTORY_PER_PART = 512  # bytes of central directory allowed per member (names are short)

Source = str | os.PathLike[str] | bytes | BinaryIO


class XlsxReadError(Exception):
    """The input cannot be read as a workbook (message in Chinese, without the file name)."""


def read_source(source: Source, limits: Limits = LIMITS) -> bytes:
    """The bytes of ``source`` (a path, bytes or a binary file), refusing what is not a plain file
    or larger than ``max_file_size`` *before* reading it (a FIFO or a device would never end)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        try:
            st = os.stat(source)
            if stat.S_ISDIR(st.st_mode):
                raise XlsxReadError("这是一个文件夹，不是工作簿文件")
            if not stat.S_ISREG(st.st_mode):
                raise XlsxReadError("这不是普通文件（可能是设备、管道或特殊文件），不能作为报表读取")
            if st.st_size > limits.max_file_size:
                raise LimitExceeded("max_file_size", limits.max_file_size, actual=st.st_size)
            with open(source, "rb") as fh:
                data = fh.read(limits.max_file_size + 1)
        except OSError as e:
            raise XlsxReadError(f"无法读取文件：{os_reason(e)}") from None
    elif hasattr(source, "read"):
        data = source.read(limits.max_file_size + 1)
    else:
        raise TypeError(f"不支持的参数类型：{type(source).__name__}")
    if len(data) > limits.max_file_size:
        raise LimitExceeded("max_file_size", limits.max_file_size, actual=len(data))
    return data


class Package:
    """Random access to the members of an in-memory zip, tolerant of name case, within limits."""

    def __init__(self, data: bytes, limits: Limits = LIMITS, budget: Budget | None = None) -> None:
        self.limits = limits
        self.budget = budget or Budget(limits)
        self.inflated = 0  # uncompressed bytes produced so far (all members)
        _check_directory(data, limits)
        self._data = data
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError, struct.error):
            raise XlsxReadError(BAD + "压缩包的目录已损坏（文件可能没有下载完整）") from None
        infos = self._zip.infolist()
        if len(infos) > limits.max_parts:
            raise LimitExceeded("max_parts", limits.max_parts, actual=len(infos))
        self._infos = {info.filename: info for info in infos}
        self._lower: dict[str, zipfile.ZipInfo] | None = None

    def names(self) -> list[str]:
        return list(self._infos)

    def find(self, name: str) -> zipfile.ZipInfo | None:
        info = self._infos.get(name)
        if info is None:
            if self._lower is None:
                self._lower = {k.lower(): v for k, v in self._infos.items()}
            info = self._lower.get(name.lower())
        return info

    def charge(self, size: int, where: str) -> None:
        """Count ``size`` more bytes against ``max_total_size`` (inflated, or expanded from them)."""
        self.inflated += size
        if self.inflated > self.limits.max_total_size:
            raise LimitExceeded("max_total_size", self.limits.max_total_size, where)

    def chunks(self, name: str) -> Iterator[bytes] | None:
        """Member ``name`` inflated chunk by chunk (``None`` if absent); raises on any limit."""
        info = self.find(name)
        return None if info is None else self._inflate(info)

    def read(self, name: str) -> bytes | None:
        parts = self.chunks(name)
        return None if parts is None else b"".join(parts)

    def _inflate(self, info: zipfile.ZipInfo) -> Iterator[bytes]:
        name, limits, data = info.filename, self.limits, self._data
        if info.flag_bits & 0x1:
            raise XlsxReadError(BAD + f"部件 {name} 被加密（压缩包密码），无法读取")
        method = info.compress_type
        if method not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise XlsxReadError(BAD + f"部件 {name} 使用了不支持的压缩方式（{method}）")
        start = info.header_offset
        if start < 0 or start + _LOCAL.size > len(data):
            raise XlsxReadError(BAD + f"部件 {name} 的位置超出了文件末尾（文件可能没有下载完整）")
        head = _LOCAL.unpack_from(data, start)
        if head[0] != b"PK\x03\x04":
            raise XlsxReadError(BAD + f"部件 {name} 的文件头已损坏")
        name_end = start + _LOCAL.size + head[10]
        expected = info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437", "replace")
        if data[start + _LOCAL.size : name_end] != expected:  # two entries sharing one member's bytes
            raise XlsxReadError(BAD + f"部件 {name} 的文件头与目录不符（压缩包被改动过）")
        pos = name_end + head[11]
        end = min(len(data), pos + info.compress_size)
        part_limit = limits.max_part_size
        produced, crc = 0, 0
        inflater = zlib.decompressobj(-15) if method == zipfile.ZIP_DEFLATED else None
        pending = b""
        while True:
            self.budget.check()
            if inflater is None:  # stored: the bytes as they are
                if pos >= end:
                    break
                out = data[pos : min(end, pos + CHUNK)]
                pos += len(out)
            else:
                if not pending:
                    if inflater.eof or pos >= end:
                        break
                    pending = data[pos : min(end, pos + CHUNK)]
                    pos += len(pending)
                try:
                    out = inflater.decompress(pending, CHUNK)
                except zlib.error:
                    raise XlsxReadError(BAD + f"部件 {name} 的压缩数据已损坏") from None
                pending = inflater.unconsumed_tail
                if inflater.eof:
                    pending = b""
            if not out:
                continue
            produced += len(out)
            if produced > part_limit:
                raise LimitExceeded("max_part_size", part_limit, name)
            consumed = pos - start
            if produced > limits.ratio_grace and produced > limits.max_ratio * max(consumed, 1):
                raise LimitExceeded("max_ratio", limits.max_ratio, name)
            self.charge(len(out), name)
            crc = zlib.crc32(out, crc)
            yield out
        if inflater is not None and not inflater.eof:
            raise XlsxReadError(BAD + f"部件 {name} 的压缩数据不完整（文件可能没有下载完整）")
        if produced != info.file_size or crc != info.CRC:
            raise XlsxReadError(BAD + f"部件 {name} 的内容与压缩包记录的长度或校验值不符（文件已损坏）")

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> Package:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_directory(data: bytes, limits: Limits) -> None:
    """Refuse an archive whose central directory is larger than ``max_parts`` members can need,
    before :mod:`zipfile` reads it (it builds one object per entry, however many are declared)."""
    tail_start = max(0, len(data) - (_EOCD.size + 65535))
    at = data.rfind(b"PK\x05\x06", tail_start)
    if at < 0 or at + _EOCD.size > len(data):
        if data[:8] == OLE_MAGIC:
            raise XlsxReadError(BAD + "这是 OLE 复合文档（加密的工作簿或旧版 .xls 格式），不是 zip 压缩包")
        if data[:4] == b"PK\x03\x04":
            raise XlsxReadError(BAD + "压缩包不完整（缺少目录），文件可能没有下载或传送完整；请重新报送")
        raise XlsxReadError(BAD + "不是 zip 压缩包")
    _, _, _, _, count, size, _, _ = _EOCD.unpack_from(data, at)
    locator = at - _EOCD64_LOCATOR.size
    if locator >= 0 and data[locator : locator + 4] == b"PK\x06\x07":
        record = locator - _EOCD64.size  # where zipfile looks for it
        if record < 0 or data[record : record + 4] != b"PK\x06\x06":
            raise XlsxReadError(BAD + "压缩包的目录已损坏")
        fields = _EOCD64.unpack_from(data, record)
        count, size = max(count, fields[7]), max(size, fields[8])
    if count > limits.max_parts:
        raise LimitExceeded("max_parts", limits.max_parts, actual=count)
    if size > limits.max_parts * _DIRECTORY_PER_PART:
        raise LimitExceeded("max_parts", limits.max_parts, actual=size // 46)
