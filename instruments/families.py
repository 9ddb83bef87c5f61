"""The scope families Joulebench speaks, one entry each: the one place that adds a family.

A family is its driver module (instruments/NAME.py, a Scope subclass), its simulator persona module
(instruments/sim/personas/NAME.py) and one `ScopeFamily` entry below. Everything else reads this table:
detection from *IDN? (instruments/detect.py), the driver names a bench file may give (app/bench/config.py),
the bench panel's choices, the simulator's personas (instruments/sim/personas) and the CLI's `sim-scope
--persona` choices. docs/architecture.md has the recipe; tests/test_families.py keeps it true.

Classes are named as "module:Class" and imported when first asked for, so reading the table costs nothing.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ScopeFamily:
    driver: str                       # the bench file's scope.driver name (and Capabilities.family)
    driver_class: str                 # "instruments.keysight:KeysightInfiniiVision"
    makers: tuple[str, ...]           # *IDN? manufacturer prefixes, upper case, spaces removed
    models: tuple[str, ...]           # *IDN? model prefixes, upper case, spaces removed
    model_suffix: str = ""            # a model must also end with this (the DS1000Z family: "Z")
    personas: dict[str, str] | None = None   # simulator persona name -> "module:Class"
    capabilities: str = ""            # "module:NAME" of its Capabilities table (instruments/capabilities.py)
    channels_in_model: str = ""       # a regex whose group 1 is the channel count in the model's name
    label: str = ""                   # shown beside the name in choices

    def matches(self, maker: str, model: str) -> bool:
        return maker.startswith(self.makers) and model.startswith(self.models) and model.endswith(self.model_suffix)

    def load_driver(self) -> type:
        return _load(self.driver_class)

    def load_capabilities(self) -> Any:
        return _load(self.capabilities)


def _load(spec: str) -> Any:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


FAMILIES: list[ScopeFamily] = [
    ScopeFamily("keysight-infiniivision", "instruments.keysight:KeysightInfiniiVision",
                makers=("KEYSIGHT", "AGILENT"), models=("DSO-X", "MSO-X", "DSOX", "MSOX", "EDUX"),
                personas={"keysight": "instruments.sim.personas.keysight:KeysightPersona"},
                capabilities="instruments.capabilities:KEYSIGHT",
                label="Keysight InfiniiVision 1000-6000 X"),
    ScopeFamily("rigol-ds1000z", "instruments.rigol:RigolDS1000Z", makers=("RIGOL",), models=("DS1", "MSO1"),
                model_suffix="Z", personas={"rigol": "instruments.sim.personas.rigol:RigolPersona"},
                capabilities="instruments.capabilities:RIGOL_DS1000Z",
                channels_in_model=r"(?:DS|MSO)1\d\d([24])Z", label="Rigol DS1000Z / MSO1000Z"),
    ScopeFamily("rigol-mso5000", "instruments.rigol:RigolMSO5000", makers=("RIGOL",),
                models=("MSO5", "MSO7", "MSO8", "DHO"),
                personas={"rigol-dho": "instruments.sim.personas.rigol:RigolDHOPersona"},
                capabilities="instruments.capabilities:RIGOL_MSO5000",
                channels_in_model=r"(?:DHO\d\d|MSO\d\d\d)([24])", label="Rigol MSO5000 / DHO800-900"),
    ScopeFamily("tektronix-mso", "instruments.tektronix:TektronixMSO", makers=("TEKTRONIX",),
                models=("MSO2", "MSO4", "MSO5", "MSO6"),
                personas={"tektronix": "instruments.sim.personas.tektronix:TektronixPersona"},
                capabilities="instruments.capabilities:TEKTRONIX",
                channels_in_model=r"MSO\d([2468])", label="Tektronix 2/4/5/6 Series MSO"),
    ScopeFamily("siglent-sds", "instruments.siglent:SiglentSDS", makers=("SIGLENT",),
                models=("SDS1", "SDS2", "SDS5", "SDS6", "SDS8"),
                personas={"siglent": "instruments.sim.personas.siglent:SiglentPersona"},
                capabilities="instruments.capabilities:SIGLENT",
                channels_in_model=r"SDS\d+?([24])X", label="Siglent SDS2000X Plus / SDS800X HD"),
    ScopeFamily("rs-rtb", "instruments.rohde_schwarz:RohdeSchwarzRTB",
                makers=("ROHDE&SCHWARZ", "ROHDE-SCHWARZ"), models=("RTB", "RTM", "RTA"),
                personas={"rs": "instruments.sim.personas.rohde_schwarz:RohdeSchwarzPersona"},
                capabilities="instruments.capabilities:RS_RTB",
                channels_in_model=r"RT[BMA]\d\d\d([24])", label="Rohde & Schwarz RTB/RTM/RTA"),
]


def driver_names() -> tuple[str, ...]:
    """Every family's driver name, in the table's order."""
    return tuple(f.driver for f in FAMILIES)


def family_of(driver: str) -> ScopeFamily | None:
    return next((f for f in FAMILIES if f.driver == driver), None)


def family_for_idn(maker: str, model: str) -> ScopeFamily | None:
    """The first family whose maker and model prefixes match (both upper case, spaces removed)."""
    return next((f for f in FAMILIES if f.matches(maker, model)), None)


def persona_names() -> tuple[str, ...]:
    """The simulator's personas, in the table's order."""
    return tuple(name for f in FAMILIES for name in (f.personas or {}))


def load_persona(name: str) -> type:
    for f in FAMILIES:
        if name in (f.personas or {}):
            return _load(f.personas[name])
    raise KeyError(name)
