"""Say in Chinese why the operating system refused a file operation (no English strerror).

Used wherever a path the user gave is read or written: the checker, the review writer, the
batch and the command line. Only the standard library; below every stage (see the layers).
"""

from __future__ import annotations

import errno

_REASONS = {
    errno.ENOENT: "文件或文件夹不存在",
    errno.EACCES: "没有访问权限",
    errno.EPERM: "操作不被允许（权限不足）",
    errno.EISDIR: "这是一个文件夹，不是文件",
    errno.ENOTDIR: "路径中有一部分不是文件夹",
    errno.ENAMETOOLONG: "文件名或路径过长",
    errno.ELOOP: "路径中的符号链接形成了循环",
    errno.EROFS: "所在磁盘是只读的",
    errno.ENOSPC: "磁盘空间不足",
    errno.EDQUOT: "磁盘配额已用完",
    errno.EBUSY: "文件正被其他程序占用",
    errno.EEXIST: "文件已存在",
    errno.EMFILE: "同时打开的文件过多",
    errno.EIO: "读写磁盘时出错（输入/输出错误）",
    errno.EINVAL: "文件名或路径无效",
    errno.EXDEV: "不能跨磁盘移动文件",
}


def os_reason(exc: OSError) -> str:
    """A short Chinese phrase for ``exc`` (e.g. “没有访问权限”), with the errno for the rest."""
    if exc.errno in _REASONS:
        return _REASONS[exc.errno]
    if isinstance(exc, PermissionError):
        return _REASONS[errno.EACCES]
    if isinstance(exc, FileNotFoundError):
        return _REASONS[errno.ENOENT]
    code = errno.errorcode.get(exc.errno or 0)
    return f"操作系统拒绝了该操作（{code}）" if code else "操作系统拒绝了该操作"


def shown(text: str) -> str:
    """A file name as text that can always be printed and put into JSON.

    Names on disk may hold bytes that are not UTF-8 (Python keeps them as lone surrogates);
    printing such a ``str`` or encoding it to UTF-8 fails. They become “\ufffd” here.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        try:
            return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        except UnicodeEncodeError:  # a surrogate that is no escaped byte
            return text.encode("utf-8", "replace").decode("utf-8")
    return text
