"""How registries find their entries: every module of a package, then the installed entry points.

Adding a cleaning step, a sensor file format, a log format or a model kind
is one module in its package (`lepton_flow/cleaning/`, `lepton_flow/formats/`,
`lepton_flow/logs/formats/`, `lepton_flow/models/`), or, for code kept outside
this repository, an entry point in the group the registry names (its module
is imported, and registers itself as the built-in ones do).
"""

from __future__ import annotations

import importlib
import pkgutil
from importlib.metadata import entry_points

GROUPS = {
    "cleaning": "lepton_flow.cleaning_steps",
    "formats": "lepton_flow.sensor_formats",
    "log_formats": "lepton_flow.log_formats",
    "models": "lepton_flow.model_kinds",
}


def load(package: str, path: list[str], group: str) -> list[object]:
    """Import the package's public modules and the entry points of `group`; returns the modules."""
    modules = [importlib.import_module(f"{package}.{info.name}") for info in pkgutil.iter_modules(path) if not info.name.startswith("_")]
    for ep in entry_points(group=group):
        loaded = ep.load()
        modules.append(loaded)
    return modules


class Registry:
    """Named entries of one kind, filled on first use by importing the package's modules and entry points."""

    def __init__(self, what: str, package: str, path: list[str], group: str):
        self.what, self.package, self.path, self.group = what, package, path, group
        self._items: dict[str, object] = {}
        self._loaded = False

    def register(self, name: str, item):
        if name in self._items and self._items[name] is not item:
            raise ValueError(f"{self.what} {name!r} is registered twice")
        self._items[name] = item
        return item

    def items(self) -> dict:
        if not self._loaded:
            self._loaded = True
            load(self.package, self.path, self.group)
        return dict(self._items)
