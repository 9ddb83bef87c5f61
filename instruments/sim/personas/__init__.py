"""The dialects the simulated scope speaks, one module per family (docs/scopes.md)."""

from instruments.sim.personas.base import CORRUPTIONS, Block, Persona
from instruments.sim.personas.keysight import KeysightPersona
from instruments.sim.personas.rigol import RigolDHOPersona, RigolPersona
from instruments.sim.personas.rohde_schwarz import RohdeSchwarzPersona
from instruments.sim.personas.siglent import SiglentPersona
from instruments.sim.personas.tektronix import TektronixPersona

PERSONAS: dict[str, type[Persona]] = {
    "keysight": KeysightPersona, "rigol": RigolPersona, "rigol-dho": RigolDHOPersona,
    "tektronix": TektronixPersona, "siglent": SiglentPersona, "rs": RohdeSchwarzPersona}

__all__ = ["CORRUPTIONS", "PERSONAS", "Block", "Persona"]
