"""Units of measure: which unit a reading is stored in, and the conversion to it.

A metric keeps one unit in the store. A reading in another unit of the same
kind (mph beside km/h, kPa beside hPa, F beside C) is converted to it; one
that cannot be (a unit of another kind, or one this table does not know,
beside a known one) is quarantined with the reason, never stored beside the
others under the wrong label. A metric new to the store takes its kind's
canonical unit (SI, or hPa for pressure), so two files of one run in mph
and km/h agree whichever is staged first.
"""

from __future__ import annotations

import numpy as np

# unit -> (kind, factor, offset): value in the kind's canonical unit = value * factor + offset
_TABLE: dict[str, tuple[str, float, float]] = {
    "C": ("temperature", 1.0, 0.0), "degC": ("temperature", 1.0, 0.0), "Deg C": ("temperature", 1.0, 0.0), "deg C": ("temperature", 1.0, 0.0), "°C": ("temperature", 1.0, 0.0), "celsius": ("temperature", 1.0, 0.0),
    "F": ("temperature", 5 / 9, -32 * 5 / 9), "degF": ("temperature", 5 / 9, -32 * 5 / 9), "Deg F": ("temperature", 5 / 9, -32 * 5 / 9), "°F": ("temperature", 5 / 9, -32 * 5 / 9), "fahrenheit": ("temperature", 5 / 9, -32 * 5 / 9),
    "K": ("temperature", 1.0, -273.15), "kelvin": ("temperature", 1.0, -273.15),
    "m/s": ("speed", 1.0, 0.0), "km/h": ("speed", 1 / 3.6, 0.0), "kmh": ("speed", 1 / 3.6, 0.0), "kph": ("speed", 1 / 3.6, 0.0),
    "mph": ("speed", 0.44704, 0.0), "kn": ("speed", 1852 / 3600, 0.0), "kt": ("speed", 1852 / 3600, 0.0), "knots": ("speed", 1852 / 3600, 0.0), "ft/s": ("speed", 0.3048, 0.0),
    "hPa": ("pressure", 1.0, 0.0), "mbar": ("pressure", 1.0, 0.0), "Pa": ("pressure", 0.01, 0.0), "kPa": ("pressure", 10.0, 0.0),
    "bar": ("pressure", 1000.0, 0.0), "psi": ("pressure", 68.9475729, 0.0), "inHg": ("pressure", 33.8638867, 0.0), "mmHg": ("pressure", 1.33322368, 0.0), "atm": ("pressure", 1013.25, 0.0),
    "m": ("length", 1.0, 0.0), "cm": ("length", 0.01, 0.0), "mm": ("length", 0.001, 0.0), "km": ("length", 1000.0, 0.0), "in": ("length", 0.0254, 0.0), "ft": ("length", 0.3048, 0.0), "mi": ("length", 1609.344, 0.0),
    "kg": ("mass", 1.0, 0.0), "g": ("mass", 0.001, 0.0), "lb": ("mass", 0.45359237, 0.0), "oz": ("mass", 0.028349523125, 0.0),
    "W": ("power", 1.0, 0.0), "kW": ("power", 1000.0, 0.0), "MW": ("power", 1e6, 0.0),
    "Wh": ("energy", 1.0, 0.0), "kWh": ("energy", 1000.0, 0.0), "MWh": ("energy", 1e6, 0.0), "J": ("energy", 1 / 3600, 0.0), "kJ": ("energy", 1 / 3.6, 0.0),
    "%": ("fraction", 1.0, 0.0), "percent": ("fraction", 1.0, 0.0), "%RH": ("fraction", 1.0, 0.0),
    "s": ("duration", 1.0, 0.0), "ms": ("duration", 0.001, 0.0), "min": ("duration", 60.0, 0.0), "h": ("duration", 3600.0, 0.0), "hr": ("duration", 3600.0, 0.0),
    # Weather and solar files (TMY3, Campbell loggers, pvlib): irradiance, illuminance, luminance, direction.
    "W/m^2": ("irradiance", 1.0, 0.0), "W/m2": ("irradiance", 1.0, 0.0), "W/m²": ("irradiance", 1.0, 0.0), "W m-2": ("irradiance", 1.0, 0.0), "kW/m^2": ("irradiance", 1000.0, 0.0), "kW/m2": ("irradiance", 1000.0, 0.0),
    "lx": ("illuminance", 1.0, 0.0), "lux": ("illuminance", 1.0, 0.0), "klx": ("illuminance", 1000.0, 0.0),
    "cd/m^2": ("luminance", 1.0, 0.0), "cd/m2": ("luminance", 1.0, 0.0), "cd/m²": ("luminance", 1.0, 0.0),
    "deg": ("angle", 1.0, 0.0), "degrees": ("angle", 1.0, 0.0), "°": ("angle", 1.0, 0.0), "rad": ("angle", 180 / np.pi, 0.0),
}
CANONICAL = {
    "temperature": "C", "speed": "m/s", "pressure": "hPa", "length": "m", "mass": "kg", "power": "W", "energy": "Wh", "fraction": "%", "duration": "s",
    "irradiance": "W/m^2", "illuminance": "lx", "luminance": "cd/m^2", "angle": "deg",
}


_BY_WORD = {name.lower(): entry for name, entry in _TABLE.items() if len(name) > 3 and name.isalpha()}
"""Units written as words, whatever their case (`Celsius`, `KNOTS`); symbols keep theirs (`mm` is not `Mm`, `K` not `k`)."""


def _entry(unit: str) -> tuple[str, float, float] | None:
    unit = unit.strip()
    return _TABLE.get(unit) or _BY_WORD.get(unit.lower())


def kind(unit: str | None) -> str | None:
    """The kind of quantity a unit measures (None: unknown, or no unit)."""
    entry = None if unit is None else _entry(unit)
    return entry[0] if entry else None


def stored_unit(store_unit: str | None, unit: str | None) -> str | None:
    """The unit a reading given in `unit` is stored in: the store's unit for its metric, else its kind's canonical unit, else `unit`."""
    if store_unit is not None:
        return store_unit
    k = kind(unit)
    return CANONICAL[k] if k else unit


def why_not(unit: str | None, to: str | None) -> str | None:
    """Why a reading in `unit` cannot be stored in `to` (None: it can, converted or as it is). No unit is taken as the metric's."""
    if unit is None or to is None or unit.strip() == to.strip():
        return None
    a, b = kind(unit), kind(to)
    if a is None or b is None:
        return f"unit {unit!r} is not the metric's unit {to!r} and cannot be converted to it"
    if a != b:
        return f"unit {unit!r} ({a}) cannot be converted to the metric's unit {to!r} ({b})"
    return None


def convert(values: np.ndarray, unit: str, to: str) -> np.ndarray:
    """Values in `unit` expressed in `to` (same kind); raises ValueError naming both otherwise."""
    if unit.strip() == to.strip():
        return values
    if why := why_not(unit, to):
        raise ValueError(why)
    _, f1, o1 = _entry(unit)
    _, f2, o2 = _entry(to)
    return ((values * f1 + o1) - o2) / f2
