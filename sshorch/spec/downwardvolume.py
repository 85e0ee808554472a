"""downwardAPI volumes: files holding the pod's own fields, and the format of those files.

A file holds what the env downward API gives (spec/downward.py checks the fields and
computes resource values for both), less what Kubernetes keeps to env (the node's name and
address), plus the whole labels and annotations, one `key="value"` line each, sorted, the
value quoted as Go's %q, as the kubelet writes them (fieldpath.FormatMap). No newline ends
a file. The files are written when the pod is made (plan/podbuild.py): labels and
annotations are the template's, and a change to them is a new revision, so files never
change under a running pod.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

from .downward import parse_field_ref, parse_resource_field_ref
from .fields import Fields
from .model import DownwardAPIFile, DownwardAPIVolume, FieldRef, ResourceFieldRef
from .names import check_item_path, item_path_clashes

# What Kubernetes allows in a volume's fieldRef, besides metadata.labels['KEY'] and metadata.annotations['KEY'].
VOLUME_FIELD_PATHS = ("metadata.name", "metadata.namespace", "metadata.labels", "metadata.annotations")
WHOLE_MAPS = ("metadata.labels", "metadata.annotations")
_ITEM_FIELDS = ("path", "fieldRef", "resourceFieldRef", "mode")


def parse_downward_volume(fields: Fields) -> DownwardAPIVolume:
    """`fields`: the volume's `downwardAPI` mapping."""
    items: list[DownwardAPIFile] = []
    paths: list[str] = []
    for at, value in fields.items("items"):
        item = Fields(fields.report, value, at, _ITEM_FIELDS)
        path = item.required_str("path", check_item_path)
        mode = item.optional_int("mode", 0, 0o777)
        paths.append(path)
        ref = _parse_ref(item)
        if ref is not None:
            items.append(DownwardAPIFile(path, ref, mode))
    for i, message in item_path_clashes(paths):
        fields.report.add(f"{fields.at('items')}[{i}].path", message)
    return DownwardAPIVolume(tuple(items), fields.get_int("defaultMode", 0o644, 0, 0o777))


def _parse_ref(item: Fields) -> FieldRef | ResourceFieldRef | None:
    chosen = item.exactly_one(("fieldRef", "resourceFieldRef"))
    if chosen == "fieldRef":
        return parse_field_ref(item.sub(chosen, ("fieldPath", "apiVersion")), VOLUME_FIELD_PATHS)
    if chosen == "resourceFieldRef":
        ref = item.sub(chosen, ("containerName", "resource", "divisor"))
        parsed = parse_resource_field_ref(ref, "")
        if parsed is not None and not parsed.container:
            # In env it is the container's own; a volume belongs to no container (Kubernetes requires it too).
            ref.missing("containerName", "is required in a volume: the container whose resource the file holds")
            return None
        return parsed
    return None


def format_map(values: Mapping[str, str]) -> str:
    """Labels or annotations as the kubelet writes them in a downwardAPI file."""
    return "\n".join(f"{key}={go_quote(values[key])}" for key in sorted(values))


_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def go_quote(text: str) -> str:
    """`text` as Go's strconv.Quote (%q) writes it: printable characters as they are, `"` and
    `\\` escaped, the rest as \\a-\\v, \\xNN below 0x80, \\uNNNN or \\UNNNNNNNN."""
    out = ['"']
    for char in text:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif char == " " or unicodedata.category(char)[0] in "LMNPS":  # Go's unicode.IsPrint
            out.append(char)
        elif char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif 0xD800 <= code <= 0xDFFF:  # no UTF-8 for a lone surrogate: Go sees its bytes as invalid
            out.append("".join(f"\\x{b:02x}" for b in char.encode("utf-8", "surrogatepass")))
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)
