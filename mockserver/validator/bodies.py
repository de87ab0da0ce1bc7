"""Request bodies of every media type a spec documents, each read by a well-kept parser into the
value its schema describes: orjson for JSON (and any +json), werkzeug's form parser for
urlencoded and multipart bodies, defusedxml for XML, the text itself for text/*, nothing for
binary types, which are accepted as documented once their size is within the limit.

A parser raises BodyError (400 unless it says otherwise) with words a client developer needs.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from xml.etree.ElementTree import Element, ParseError

import orjson
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as parse_xml
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser

from ..jsondoc import MAX_DEPTH
from .deserializers import MISSING, from_pairs
from .shape import Shape

if TYPE_CHECKING:
    from ..spec import Encoding, MediaSpec

FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
# orjson reads integers as 64-bit and anything past as a float: exact up to 2**64, but integers just
# below -2**63 become the float -2**63, which an int64 bound then admits. Such documents are read again
# by the standard library, which keeps every digit; the test is a substring search, so the common
# document pays nothing measurable.
_ROUNDS_TO_INT64_MIN = b"-922337203685477"


class BodyError(ValueError):
    def __init__(self, message: str, status: int = 400, field: str = "body") -> None:
        super().__init__(message)
        self.message, self.status, self.field = message, status, field


def kind_of(media_type: str) -> str:
    """Which parser a documented media type needs: json, form, multipart, xml, text or binary."""
    base = media_type.split(";", 1)[0].strip().lower()
    if base == "application/json" or base.endswith("+json"):
        return "json"
    if base == FORM:
        return "form"
    if base.startswith("multipart/"):
        return "multipart"
    if base in ("application/xml", "text/xml") or base.endswith("+xml"):
        return "xml"
    if base.startswith("text/") and "*" not in base:
        return "text"
    return "binary"  # octet-stream, images, wildcards: bytes the mock does not interpret


def text_problem(payload: bytes, nul_allowed: bool = False) -> str | None:
    """Why a body cannot be read as UTF-8 text, if it cannot. A NUL byte is refused where the syntax
    forbids it raw (JSON, XML, urlencoded forms); plain text may hold U+0000 like any character."""
    nul = -1 if nul_allowed else payload.find(b"\x00")
    if nul >= 0:
        return f"The request body contains a NUL byte at position {nul}."
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError as bad:
        return f"The request body is not valid UTF-8 (byte 0x{payload[bad.start]:02x} at position {bad.start})."
    return None


def decode(payload: bytes, charset: str, nul_allowed: bool = False) -> str:
    if charset.replace("-", "").lower() in ("utf8", "usascii", "ascii"):
        problem = text_problem(payload, nul_allowed)
        if problem:
            raise BodyError(problem)
        return payload.decode("utf-8")
    try:
        return payload.decode(charset)
    except (UnicodeDecodeError, LookupError):
        raise BodyError(f"The request body is not valid {charset}.") from None


def charset_known(charset: str) -> bool:
    try:
        codecs.lookup(charset)
    except LookupError:
        return False
    return True


# -- one parser per kind ---------------------------------------------------------------------------------


def read_json(payload: bytes, media: MediaSpec, params: Mapping[str, str]) -> Any:
    if not payload.strip():
        raise BodyError("The request body is empty; send a JSON document.")
    try:
        document = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise BodyError(_json_problem(payload, exc)) from None
    if _ROUNDS_TO_INT64_MIN in payload:
        with contextlib.suppress(RecursionError, ValueError):
            document = json.loads(payload)
    return document


def _json_problem(payload: bytes, exc: orjson.JSONDecodeError) -> str:
    """Say why the body is not JSON in the words a client developer needs."""
    problem = text_problem(payload)
    if problem:
        return problem.rstrip(".") + "; it is not valid JSON." if "NUL" in problem else problem
    if "depth" in exc.msg:
        return f"The request body is nested too deeply (more than {MAX_DEPTH} levels)."
    return f"The request body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."


def _form_fields(payload: bytes, mimetype: str, params: Mapping[str, str]) -> tuple[MultiDict[str, str], Any]:
    parser = FormDataParser(max_form_memory_size=len(payload) + 1, max_form_parts=10_000)
    try:
        _, form, files = parser.parse(io.BytesIO(payload), mimetype, len(payload), dict(params))
    except (ValueError, RequestEntityTooLarge) as exc:
        raise BodyError(f"The request body is not a valid {mimetype} body: {exc}.") from None
    return form, files


def _encoded(value: Any, name: str, as_json: bool) -> Any:
    """A form field whose encoding (or, in multipart, whose object schema) makes it JSON."""
    if not isinstance(value, str) or not as_json:
        return value
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        raise BodyError(f"{name} must be a JSON document.", field=name) from None


def _fields_document(form: MultiDict[str, str], media: MediaSpec, json_objects: bool) -> dict[str, Any]:
    """Form fields as the object the schema describes: each property read in its encoding's style."""
    properties = media.shape.properties
    claimed = frozenset(properties)
    document: dict[str, Any] = {}
    for name, shape in properties.items():
        encoding = media.encoding.get(name)
        declared_types = encoding.content_types if encoding else ()
        if declared_types:
            as_json = any(kind_of(t) == "json" for t in declared_types)
        else:  # multipart's default for an object is application/json
            as_json = json_objects and shape.is_object
        if as_json and name in form:
            document[name] = _encoded(form[name], name, as_json=True)
            continue
        style, explode = (encoding.style, encoding.explode) if encoding else ("form", True)
        if shape.is_object and style == "form" and explode and name in form:
            style, explode = "form", False  # a lone `name=k,v` field: the object itself, not its keys
        value = from_pairs(style, form, name, shape, explode, claimed)
        if value is not MISSING:
            document[name] = value
        elif shape.is_array and name in media.shape.required:
            document[name] = []  # an empty array sends no field at all: a form cannot say it otherwise
    for key in form:
        if key is None:  # a part without a name (werkzeug gives None): nothing to validate it as
            continue
        if key not in document and key not in claimed and not any(key.startswith(f"{p}[") for p in claimed):
            many, coerce = form.getlist(key), media.shape.additional.coerce
            document[key] = [coerce(v) for v in many] if len(many) > 1 else coerce(many[0])
    return document


def read_form(payload: bytes, media: MediaSpec, params: Mapping[str, str]) -> Any:
    decode(payload, params.get("charset", "utf-8"))  # NUL bytes and invalid UTF-8 are refused first
    form, _ = _form_fields(payload, FORM, params)
    return _fields_document(form, media, json_objects=False)


def read_multipart(payload: bytes, media: MediaSpec, params: Mapping[str, str]) -> Any:
    if "boundary" not in params:
        raise BodyError("A multipart body needs a boundary parameter in its Content-Type.", 400, "Content-Type")
    form, files = _form_fields(payload, MULTIPART, params)
    fields: MultiDict[str, str] = MultiDict(form)
    for name in files:
        if name is None:
            continue
        parts: list[FileStorage] = files.getlist(name)
        encoding = media.encoding.get(name)
        for part in parts:
            _check_part_type(name, part, encoding)
            fields.add(name, _part_text(name, part, media.shape.property(name)))
    return _fields_document(fields, media, json_objects=True)


def _check_part_type(name: str, part: FileStorage, encoding: Encoding | None) -> None:
    if encoding is None or not encoding.content_types:
        return
    sent = (part.mimetype or "application/octet-stream").lower()
    for allowed in encoding.content_types:
        if allowed in (sent, "*/*") or (allowed.endswith("/*") and sent.startswith(allowed[:-1])):
            return
    raise BodyError(f"The part {name} is {sent}; send {' or '.join(encoding.content_types)}.", status=415, field=name)


def _part_text(name: str, part: FileStorage, shape: Shape) -> str:
    """A file part as the string its schema validates: its bytes, one character each, for binary
    content; else its text, which must then be UTF-8."""
    content = part.stream.read()
    if shape.is_binary or not shape.types:
        return content.decode("latin-1")
    problem = text_problem(content)
    if problem:
        raise BodyError(f"The part {name}: {problem[0].lower()}{problem[1:]}", field=name)
    return content.decode("utf-8")


def read_text(payload: bytes, media: MediaSpec, params: Mapping[str, str]) -> Any:
    return media.shape.coerce(decode(payload, params.get("charset", "utf-8"), nul_allowed=True))


def read_binary(payload: bytes, media: MediaSpec, params: Mapping[str, str]) -> Any:
    return None  # bytes the mock does not interpret: documented, within the limit, accepted


def read_xml(payload: bytes, media: MediaSpec, params: Mapping[str, str]) -> Any:
    decode(payload, params.get("charset", "utf-8"))
    if not payload.strip():
        raise BodyError("The request body is empty; send an XML document.")
    try:
        root = parse_xml(payload, forbid_dtd=True)
    except DefusedXmlException:
        raise BodyError("The request body declares a DTD or entities, which are refused.") from None
    except ParseError as exc:
        raise BodyError(f"The request body is not well-formed XML: {exc}.") from None
    return xml_document(root, media.shape)


def xml_document(root: Element, shape: Shape) -> Any:
    """An XML element as the value its schema describes, using the schema's `xml` hints (`name`,
    `attribute`, `wrapped`); elements the schema does not name are kept as text. Walked with an
    explicit stack, within the one nesting limit."""
    result: dict[str, Any] = {}
    pending: list[tuple[Element, Shape, Callable[[Any], None], int]] = [
        (root, shape, lambda value: result.__setitem__("root", value), 1)
    ]
    while pending:
        element, node_shape, store, level = pending.pop()
        if level > MAX_DEPTH:
            raise BodyError(f"The request body is nested too deeply (more than {MAX_DEPTH} levels).")
        if node_shape.is_array:  # a wrapped array: the items are the children
            items: list[Any] = []
            store(items)
            for child in element:
                items.append(None)
                pending.append((child, node_shape.items, _setter(items, len(items) - 1), level + 1))
            continue
        text_only = len(element) == 0 and not element.attrib and (element.text or "").strip()
        if not node_shape.is_object or text_only:  # text where an object is due stays text: a type error
            store(_xml_text(node_shape, element.text or "") if not node_shape.is_object else element.text)
            continue
        value: dict[str, Any] = {}
        store(value)
        children = list(element)
        used: set[int] = set()
        for name, prop in node_shape.properties.items():
            xml_name = str(prop.xml.get("name", name))
            if prop.xml.get("attribute"):
                attribute = _attribute(element, xml_name)
                if attribute is not None:
                    value[name] = _xml_text(prop, attribute)
                continue
            if prop.is_array and not prop.xml.get("wrapped"):
                item_name = str(prop.items.xml.get("name", xml_name))
                matches = [i for i, c in enumerate(children) if _local(c.tag) == item_name]
                if matches:
                    items = [None] * len(matches)
                    value[name] = items
                    for slot, index in enumerate(matches):
                        used.add(index)
                        pending.append((children[index], prop.items, _setter(items, slot), level + 1))
                continue
            found = next((i for i, c in enumerate(children) if _local(c.tag) == xml_name), None)
            if found is not None:
                used.add(found)
                pending.append((children[found], prop, _setter(value, name), level + 1))
        for index, child in enumerate(children):
            if index not in used and _local(child.tag) not in value:
                value[_local(child.tag)] = _xml_text(node_shape.additional, child.text or "")
    return result["root"]


def _xml_text(shape: Shape, text: str) -> Any:
    """Element text as its schema's type: surrounding whitespace does not count for a number or a
    boolean, but a string keeps every character it was sent with."""
    value = shape.coerce(text.strip())
    return text if isinstance(value, str) else value


def _setter(container: Any, key: Any) -> Callable[[Any], None]:
    return lambda value: container.__setitem__(key, value)


def _local(tag: Any) -> str:
    """A tag without its namespace: `{urn:x}pet` is `pet`."""
    return str(tag).rsplit("}", 1)[-1]


def _attribute(element: Element, name: str) -> str | None:
    for key, value in element.attrib.items():
        if _local(key) == name:
            return value
    return None


READERS: Mapping[str, Callable[[bytes, MediaSpec, Mapping[str, str]], Any]] = {
    "json": read_json,
    "form": read_form,
    "multipart": read_multipart,
    "xml": read_xml,
    "text": read_text,
    "binary": read_binary,
}
