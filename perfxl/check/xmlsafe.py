"""Parse the XML parts of an untrusted file: lxml, configured for hostile input, fed in chunks.

The parser never resolves entities, never loads a DTD, never touches the network and keeps
libxml2's safety limits (``huge_tree=False``: no text node over 10 MB, no nesting deeper than
256). A document whose DTD declares any entity, or names an external DTD, is refused as a whole
(no workbook writer produces one; it is how "billion laughs" and external-entity attacks are
built). Events come out as the inflated chunks go in, so a part is never held whole; the caller
frees what it has read (:class:`Sweeper`), so memory stays at about one row or one string.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import chain

from lxml import etree

from perfxl.check.package import BAD, XlsxReadError

__all__ = ["PARSER_OPTIONS", "Sweeper", "events", "parse", "safe_parser"]

PARSER_OPTIONS = {
    "resolve_entities": False,
    "no_network": True,
    "huge_tree": False,
    "load_dtd": False,
    "collect_ids": False,  # OOXML has no xml:id to look up; not indexing them parses faster
}
# Bytes handed to the parser at a time: a reader that has what it needs stops within this much
# more parsing (a worksheet's data validations and page setup, half its bytes, are never parsed).
# Small, since all of a chunk is parsed before its events are seen; a feed costs little.
FEED = 2 * 1024
# A part that inflates to no more than this is parsed in one call and walked in C (lxml's pull
# parser costs more per event than the parsing itself); its tree stays a few MB. Larger parts,
# which only a crafted or unusual file has, are streamed.
WHOLE = 1024 * 1024


def safe_parser() -> etree.XMLParser:
    """A whole-document parser with the same settings (for small parts and for tests)."""
    return etree.XMLParser(remove_pis=True, remove_comments=True, **PARSER_OPTIONS)


def events(
    chunks: Iterable[bytes], part: str, tags: Sequence[str], kinds: tuple[str, ...] = ("end",)
) -> Iterator[tuple[str, etree._Element]]:
    """(event, element) for each element named in ``tags`` (``{*}row`` matches any namespace).

    Events come in document order either way, so a caller cannot tell a small part parsed whole
    from a large one streamed (and may free what it has read in both)."""
    head: list[bytes] = []
    size = 0
    rest = iter(chunks)
    for chunk in rest:
        head.append(chunk)
        size += len(chunk)
        if size > WHOLE:
            break
    else:
        yield from etree.iterwalk(parse(b"".join(head), part), events=kinds, tag=list(tags))
        return
    yield from _stream(chain(head, rest), part, tags, kinds)


def _stream(
    chunks: Iterable[bytes], part: str, tags: Sequence[str], kinds: tuple[str, ...]
) -> Iterator[tuple[str, etree._Element]]:
    parser = etree.XMLPullParser(
        events=kinds, tag=list(tags), remove_pis=True, remove_comments=True, **PARSER_OPTIONS
    )
    vetted = False
    try:
        for chunk in chunks:
            for at in range(0, len(chunk), FEED):
                parser.feed(chunk[at : at + FEED])
                found = parser.read_events()
                if not vetted:  # the document is vetted at its first event, before anything is used
                    first = next(found, None)
                    if first is None:
                        continue
                    _vet(first[1], part)
                    vetted = True
                    yield first
                yield from found  # the events themselves pass through untouched (the hot path)
        root = parser.close()
        if not vetted:
            _vet(root, part)
        yield from parser.read_events()
    except etree.XMLSyntaxError as exc:
        raise XlsxReadError(_syntax(exc, part)) from None


def parse(data: bytes, part: str) -> etree._Element:
    """A small part parsed whole, with the same settings and checks."""
    try:
        root = etree.fromstring(data, safe_parser())
    except etree.XMLSyntaxError as exc:
        raise XlsxReadError(_syntax(exc, part)) from None
    _vet(root, part)
    return root


class Sweeper:
    """Frees elements once they are read: every ``every`` calls, the siblings before the element
    just read are deleted in one go (deleting one by one would cost as much as reading them)."""

    def __init__(self, every: int = 256) -> None:
        self.every = every
        self.count = 0

    def __call__(self, el: etree._Element) -> None:
        self.count += 1
        if self.count % self.every == 0:
            parent = el.getparent()
            if parent is not None:
                del parent[: parent.index(el)]


def _vet(el: etree._Element, part: str) -> None:
    info = el.getroottree().docinfo
    dtd = info.internalDTD
    if info.system_url or info.public_id or (dtd is not None and any(True for _ in dtd.iterentities())):
        raise XlsxReadError(
            f"{BAD}部件 {part} 含有 DTD 实体声明或外部引用"
            "（正常的工作簿从不包含，可能被恶意构造），已拒绝读取"
        )


def _syntax(exc: etree.XMLSyntaxError, part: str) -> str:
    where = f"（第 {exc.lineno} 行）" if exc.lineno else ""
    log = exc.error_log.last_error if exc.error_log else None
    kind = log.type_name if log is not None else ""
    if kind == "ERR_RESOURCE_LIMIT":
        return f"{BAD}部件 {part} 嵌套过深或单段文字过长，超出安全解析的上限{where}，可能被恶意构造"
    if kind == "ERR_UNDECLARED_ENTITY":
        return f"{BAD}部件 {part} 引用了未定义的实体{where}"
    return f"{BAD}部件 {part} 的 XML 已损坏{where}"
