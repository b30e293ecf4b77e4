"""How a flow's parameter model shows in Prefect's run form.

Prefect's UI lists a model's fields alphabetically unless a field's schema
carries a `position`; `field_order` gives every field one, so the fields a
user comes to change come first and the rest follow in the order the model
declares them (a model that inherits from others declares theirs first).
"""

from __future__ import annotations

from collections.abc import Callable


def field_order(*first: str) -> Callable[[dict, type], None]:
    """A model's `json_schema_extra`: `position` 0, 1, ... for the fields named in `first`, then for the rest."""

    def apply(schema: dict, cls: type) -> None:
        props = schema.get("properties", {})
        names = [n for n in first if n in props] + [n for n in props if n not in first]
        for i, name in enumerate(names):
            props[name]["position"] = i

    return apply
