"""Log formats, registered by name.

A format parses one line into an event, a dict with `timestamp` (a
timezone-aware `datetime`), `host`, `source`, `level` and `message`, or
returns None for a line it does not recognise (the caller quarantines it
with its file and line number). Adding a format is one module in this
package that calls `register_log_format` (or a module named by an entry
point in the group `lepton_flow.log_formats`); most are a layout
(`lepton_flow.logs.layout.layout_format`, see `log4j.py`), and a user can
define one without code as `<data root>/log-formats/NAME.toml`
(`folder_formats`). `lepton-flow new NAME --kind log-format` writes one
that works, with its test.
"""

from __future__ import annotations

import re

from lepton_flow.logs.layout import LayoutError, layout_format
from lepton_flow.logs.logformat import EVENT_FIELDS, MONTHS, LogFormat, event, file_head, http_level, keep_exact, plain_lines, take_lines, time_digits, with_header, zoneless
from lepton_flow.plugins import GROUPS, Registry

__all__ = [
    "EVENT_FIELDS", "MONTHS", "LogFormat", "detect", "event", "file_head", "folder_formats", "http_level", "keep_exact", "log_formats", "plain_lines",
    "register_log_format", "take_lines", "time_digits", "with_header", "zoneless",
]

_REGISTRY = Registry("log format", __name__, __path__, GROUPS["log_formats"])


def register_log_format(fmt: LogFormat) -> LogFormat:
    return _REGISTRY.register(fmt.name, fmt)


def log_formats() -> dict[str, LogFormat]:
    """The registered formats and those defined in the formats folder (`Settings.log_formats_dir`)."""
    from lepton_flow.settings import get_settings

    return {**folder_formats(get_settings().log_formats_dir), **_REGISTRY.items()}


_FOLDER: dict[str, tuple[tuple, dict[str, LogFormat]]] = {}


def folder_formats(folder: str) -> dict[str, LogFormat]:
    """The formats of `folder`'s `NAME.toml` files: `layout` (or `layouts`, a list), and optional `timestamp`, `description`, `similarity`, `examples`.

    Read again only when the folder's listing or a file's time changes. A
    file that does not make a working format is left out with a warning
    naming it and why (a run never fails for another file's format); so is
    one that would shadow a built-in format.
    """
    import logging
    import tomllib

    import fsspec

    try:
        fs, root = fsspec.core.url_to_fs(folder)
        listing = sorted((i["name"], str(i.get("mtime") or i.get("LastModified") or ""), i.get("size")) for i in fs.ls(root, detail=True) if i["name"].endswith(".toml"))
    except (FileNotFoundError, NotADirectoryError):
        return {}
    except OSError as exc:
        logging.getLogger("lepton_flow").warning("log formats folder %s cannot be listed: %s", folder, exc)
        return {}
    key = tuple(listing)
    if folder in _FOLDER and _FOLDER[folder][0] == key:
        return _FOLDER[folder][1]
    builtin = _REGISTRY.items()
    found: dict[str, LogFormat] = {}
    for path, _, _ in listing:
        name = path.rsplit("/", 1)[-1][: -len(".toml")]
        try:
            with fs.open(path, "rb") as fh:
                spec = tomllib.load(fh)
            if name in builtin:
                raise LayoutError(f"a built-in format is called {name!r}; name the file otherwise")
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", name):
                raise LayoutError("a format's name is letters, digits, '_', '.' and '-', at most 64")
            layouts = spec.get("layouts") or spec.get("layout")
            if not layouts:
                raise LayoutError("it has no `layout`")
            found[name] = layout_format(
                name, layouts, spec.get("timestamp") or None, examples=spec.get("examples"),
                description=str(spec.get("description") or f"defined in {path}"), drain_similarity=float(spec.get("similarity", 0.4)),
            )
        except (OSError, ValueError, TypeError, tomllib.TOMLDecodeError) as exc:
            logging.getLogger("lepton_flow").warning("log format file %s left out: %s", path, exc)
    _FOLDER[folder] = (key, found)
    return found


DETECT_SLACK = 0.02
"""Formats that parse within this share of the best are as good a fit; the most specific of them wins."""


def detect(lines: list[str], year: int = 1970, formats: dict[str, LogFormat] | None = None) -> str | None:
    """The most specific format among those that parse (nearly) the most of the sample lines; None if none parses any.

    Most specific: fills the most fields per line, then leaves the least
    text to the message, then reads the most of the sample's lines that
    are its own directives (W3C's `#Fields:`), then accepts the least beyond
    its own lines (`breadth`), then its name (so the answer never depends on
    the order formats were registered in).
    """
    formats = formats or log_formats()
    fits = {name: f.fit(lines, year) for name, f in formats.items()}
    best = max((share for share, _, _ in fits.values()), default=0.0)
    if best <= 0:
        return None
    near = [name for name, (share, _, _) in fits.items() if share >= best - DETECT_SLACK]

    def directives(name: str) -> int:
        pattern = formats[name].directives
        return sum(re.match(pattern, line) is not None for line in lines) if pattern else 0

    return min(near, key=lambda name: (-round(fits[name][1], 6), round(fits[name][2], 6), -directives(name), formats[name].breadth, name))


