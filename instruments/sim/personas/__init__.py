"""The dialects the simulated scope speaks, one module per family (docs/scopes.md)."""

from instruments.sim.personas.base import CORRUPTIONS, Block, Persona
from instruments.families import load_persona, persona_names

# one per family's persona, from the family table (instruments/families.py)
PERSONAS: dict[str, type[Persona]] = {name: load_persona(name) for name in persona_names()}

__all__ = ["CORRUPTIONS", "PERSONAS", "Block", "Persona"]
