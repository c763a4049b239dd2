"""Reading untrusted XML: no DTD, no entities, no network, bounded size."""

from __future__ import annotations

from lxml import etree

from engine.errors import Problem

MAX_FILE_BYTES = 2 * 1024 * 1024


class UnsafeXml(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_comments=False)


def parse_xml(content: bytes, filename: str) -> etree._ElementTree:
    """Parse or raise UnsafeXml with the file and line. Any DOCTYPE is refused
    outright: BPMN and DMN never need one, and it is how entity attacks
    (external entities, billion laughs) arrive."""
    if len(content) > MAX_FILE_BYTES:
        raise UnsafeXml(Problem(filename, f"file is {len(content)} bytes; the limit is {MAX_FILE_BYTES}",
                                       zh=f"文件有 {len(content)} 字节，上限是 {MAX_FILE_BYTES}"))
    try:
        root = etree.fromstring(content, _parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else None
        raise UnsafeXml(Problem(filename, f"not well-formed XML: {exc.msg}", line=line,
                                zh=f"XML 格式不正确：{exc.msg}")) from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        line = content[: max(content.find(b"<!DOCTYPE"), 0)].count(b"\n") + 1
        raise UnsafeXml(Problem(filename, "a DOCTYPE (entity declaration) is not allowed", line=line,
                                       zh="不允许 DOCTYPE（实体声明）"))
    return tree
