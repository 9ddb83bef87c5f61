"""Choosing a driver from *IDN?, and opening a scope from a bench file's resource.

The resource "sim" (optionally "sim:PERSONA" or "sim:PERSONA:SOURCE") serves a
simulated scope in-process on a free loopback port and connects to it through
the same pyvisa path as real hardware.
"""

from __future__ import annotations

import logging

from instruments.errors import InstrumentError
from instruments.keysight import KeysightInfiniiVision
from instruments.rigol import RigolDS1000Z, RigolMSO5000
from instruments.rohde_schwarz import RohdeSchwarzRTB
from instruments.scope import Scope
from instruments.siglent import SiglentSDS
from instruments.tektronix import TektronixMSO
from instruments.transport import Transport

log = logging.getLogger(__name__)

DRIVERS: dict[str, type[Scope]] = {cls.driver_name: cls for cls in (
    KeysightInfiniiVision, RigolDS1000Z, RigolMSO5000, TektronixMSO, SiglentSDS, RohdeSchwarzRTB)}


def driver_for_idn(idn: str) -> str:
    """The driver name for an *IDN? reply, or an InstrumentError naming what was seen."""
    parts = [p.strip() for p in idn.split(",")]
    maker = parts[0].upper() if parts else ""
    model = parts[1].upper().replace(" ", "") if len(parts) > 1 else ""
    if maker.startswith(("KEYSIGHT", "AGILENT")) and model.startswith(("DSO-X", "MSO-X", "DSOX", "MSOX",
                                                                        "EDUX", "DSO-X")):
        return "keysight-infiniivision"
    if maker.startswith("RIGOL"):
        if model.startswith(("DS1", "MSO1")) and model.endswith("Z"):
            return "rigol-ds1000z"
        if model.startswith(("MSO5", "MSO7", "MSO8", "DHO")):
            return "rigol-mso5000"
    if maker.startswith("TEKTRONIX") and model.startswith(("MSO4", "MSO5", "MSO6", "MSO64", "MSO44", "MSO46",
                                                            "MSO54", "MSO56", "MSO58", "MSO68", "MSO24")):
        return "tektronix-mso"
    if maker.startswith("SIGLENT") and model.startswith(("SDS2", "SDS8", "SDS1", "SDS5", "SDS6")):
        return "siglent-sds"
    if maker.replace(" ", "").startswith(("ROHDE&SCHWARZ", "ROHDE-SCHWARZ")) and model.startswith(("RTB", "RTM",
                                                                                                    "RTA")):
        return "rs-rtb"
    raise InstrumentError(f"no driver knows the scope that answered *IDN? with {idn!r}. Set scope.driver in the "
                          f"bench file to one of: {', '.join(DRIVERS)} if its dialect matches one of them.")


def make_scope(transport: Transport, driver: str = "auto") -> Scope:
    """Identify the scope on `transport` and build its driver."""
    idn = transport.query("*IDN?").strip()
    if not idn:
        raise InstrumentError(f"{transport.name}: the scope gave an empty reply to *IDN?")
    name = driver_for_idn(idn) if driver == "auto" else driver
    if name not in DRIVERS:
        raise InstrumentError(f"unknown driver {name!r}; use one of: auto, {', '.join(DRIVERS)}")
    log.info("%s: %s -> driver %s", transport.name, idn, name)
    return DRIVERS[name](transport, idn=idn)


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
