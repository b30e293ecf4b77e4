"""How a flow's parameter model shows in Prefect's run form.

Prefect's UI lists a model's fields alphabetically unless a field's schema
carries a `position`; `field_order` gives every field one, so the fields a
user comes to change come first and the rest follow in the order the model
declares them (a model that inherits from others declares theirs first).
"""

from __future__ import annotations

from collections.abc import Callable


def field_order(*first: str) -> Callable[[dict, type], None]:
    """A model's `json_schema_extra`: `position` 0, 1, ... for the fields named in `first`, then for the rest; and
    every optional field (`X | None = None`) shown as a plain X field that may be left empty (`plain_optional`)."""

    def apply(schema: dict, cls: type) -> None:
        props = schema.get("properties", {})
        names = [n for n in first if n in props] + [n for n in props if n not in first]
        for i, name in enumerate(names):
            props[name]["position"] = i
            plain_optional(props[name])

    return apply


def plain_optional(prop: dict) -> None:
    """`anyOf: [X, null]` with default null becomes X without a default, in place.

    Prefect's form draws `anyOf` with a null branch as a type switch ("Property
    is type None"); a field left empty is simply not sent, and the model's
    default (None, which its description explains: "empty: the store's grid")
    applies. Only the form changes: the model still accepts None.
    """
    branches = prop.get("anyOf")
    if not branches or prop.get("default", ...) is not None:
        return
    kept = [b for b in branches if b.get("type") != "null"]
    if len(kept) != 1 or len(kept) == len(branches):
        return
    del prop["anyOf"]
    prop.pop("default")
    for key, value in kept[0].items():
        prop.setdefault(key, value)
