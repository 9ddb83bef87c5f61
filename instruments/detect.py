"""Choosing a driver from *IDN?, and opening a scope from a bench file's resource.

The resource "sim" (optionally "sim:PERSONA" or "sim:PERSONA:SOURCE") serves a
simulated scope in-process on a free loopback port and connects to it through
the same pyvisa path as real hardware.
"""

from __future__ import annotations

import logging

from instruments.errors import InstrumentError
from instruments.families import driver_names, family_for_idn, family_of
from instruments.scope import Scope
from instruments.transport import Transport

log = logging.getLogger(__name__)



def driver_for_idn(idn: str) -> str:
    """The driver name for an *IDN? reply, or an InstrumentError naming what was seen."""
    parts = [p.strip() for p in idn.split(",")]
    maker = parts[0].upper().replace(" ", "") if parts else ""
    model = parts[1].upper().replace(" ", "") if len(parts) > 1 else ""
    family = family_for_idn(maker, model)
    if family is not None:
        return family.driver
    raise InstrumentError(f"no driver knows the scope that answered *IDN? with {idn!r}. Set scope.driver in the "
                          f"bench file to one of: {', '.join(driver_names())} if its dialect matches one of them.")


def make_scope(transport: Transport, driver: str = "auto") -> Scope:
    """Identify the scope on `transport` and build its driver."""
    idn = transport.query("*IDN?").strip()
    if not idn:
        raise InstrumentError(f"{transport.name}: the scope gave an empty reply to *IDN?")
    name = driver_for_idn(idn) if driver == "auto" else driver
    if family_of(name) is None:
        raise InstrumentError(f"unknown driver {name!r}; use one of: auto, {', '.join(driver_names())}")
    log.info("%s: %s -> driver %s", transport.name, idn, name)
    return family_of(name).load_driver()(transport, idn=idn)


def open_scope(resource: str, driver: str = "auto", timeout_s: float = 10.0, visa_library: str = "@py") -> Scope:
    """Open a real VISA resource, or "sim[:persona[:source]]", and return its driver."""
    from instruments.visa import VisaTransport
    sim = None
    if resource == "sim" or resource.startswith("sim:"):
        from instruments.sim.server import SimScope
        from instruments.sim.sources import SourceError
        spec, _, options = resource.partition("?")
        parts = spec.split(":", 2)
        persona = parts[1] if len(parts) > 1 and parts[1] else "keysight"
        source = parts[2] if len(parts) > 2 and parts[2] else "cpu"
        link = None
        for option in filter(None, options.split("&")):
            key, _, value = option.partition("=")
            try:
                if key != "link_mbps" or float(value) <= 0:
                    raise ValueError
                link = float(value)
            except ValueError:
                raise InstrumentError(f'scope.resource "{resource}": unknown option {option!r}; the simulator takes '
                                      '"?link_mbps=R" (a link rate in Mbit/s above 0)') from None
        try:
            sim = SimScope(persona=persona, source=source, link_mbps=link)
        except (ValueError, SourceError) as exc:
            raise InstrumentError(f'scope.resource "{resource}": {exc}') from None
        resource = sim.resource
    try:
        transport = VisaTransport(resource, timeout_s=timeout_s, visa_library=visa_library)
        scope = make_scope(transport, driver)
    except InstrumentError:
        if sim is not None:
            sim.close()
        raise
    scope.sim = sim
    return scope
