"""What each scope family is, in one table: channels, divisions, legal record lengths, ADC codes and rails,
download pages and trigger sources. Configure, ranging, clipping and the self-check read it from here.

The figures come from each family's programming guide (cited per entry); where a model's *IDN? changes
them (a two-channel Rigol, a DHO900's deeper memory) `capabilities_for` says so.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Capabilities:
    family: str
    channels: int
    vertical_divisions: int
    horizontal_divisions: int
    depths: dict[int, tuple[int, ...]]      # legal record lengths by the number of channels on (1, 2, 4)
    adc_bits: int
    code_min: int                           # the lowest code that is a sample (the lower rail)
    code_max: int                           # the upper rail
    page_points: int | None                 # largest download in one block; None: the whole record at once
    ext_trigger: str | None                 # the dialect's name of the external trigger input, if any
    hole_code: int | None = None            # a code that means "no data" (Keysight BYTE 0)
    source: str = ""                        # where these figures come from

    def legal_depths(self, channels_on: int) -> tuple[int, ...]:
        key = 1 if channels_on <= 1 else 2 if channels_on == 2 else 4
        return self.depths.get(key) or self.depths[max(self.depths)]

    def depth_for(self, points_wanted: float, channels_on: int) -> int:
        """The smallest legal depth that holds the window; the largest when none does."""
        legal = self.legal_depths(channels_on)
        return next((d for d in legal if d >= points_wanted * (1 - 1e-9)), legal[-1])

    def trigger_sources(self) -> tuple[str, ...]:
        return tuple(f"CH{n}" for n in range(1, self.channels + 1)) + (("EXT",) if self.ext_trigger else ())

    def as_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["depths"] = {str(k): list(v) for k, v in self.depths.items()}
        d["trigger_sources"] = list(self.trigger_sources())
        return d


def _flat(*depths: int) -> dict[int, tuple[int, ...]]:
    return {k: tuple(depths) for k in (1, 2, 4)}


KEYSIGHT = Capabilities(
    family="keysight-infiniivision", channels=4, vertical_divisions=8, horizontal_divisions=10,
    depths=_flat(*(100 * 10 ** k for k in range(6))),       # :WAVeform:POINts asks; the scope decides
    adc_bits=8, code_min=1, code_max=255, page_points=None, ext_trigger="EXTernal", hole_code=0,
    source="InfiniiVision 3000T X programmer's guide: :WAVeform:FORMat BYTE, 0x00 = hole, 0x01 = clipped low, "
           "0xFF = clipped high; :WAVeform:PREamble (yreference = #Vsteps/2); :TRIGger:EDGE:SOURce EXTernal")

RIGOL_DS1000Z = Capabilities(
    family="rigol-ds1000z", channels=4, vertical_divisions=8, horizontal_divisions=12,
    depths={1: (12_000, 120_000, 1_200_000, 12_000_000, 24_000_000),
            2: (6_000, 60_000, 600_000, 6_000_000, 12_000_000),
            4: (3_000, 30_000, 300_000, 3_000_000, 6_000_000)},
    adc_bits=8, code_min=0, code_max=255, page_points=250_000, ext_trigger=None,
    source="MSO1000Z/DS1000Z programming guide: :ACQuire:MDEPth (legal values by channels on), "
           ":WAVeform:DATA (BYTE: at most 250 000 points a read), 12 horizontal divisions")

RIGOL_MSO5000 = Capabilities(
    family="rigol-mso5000", channels=4, vertical_divisions=8, horizontal_divisions=10,
    depths=_flat(1_000, 10_000, 100_000, 1_000_000, 10_000_000, 25_000_000, 50_000_000, 100_000_000,
                 200_000_000),
    adc_bits=8, code_min=0, code_max=255, page_points=None, ext_trigger=None,
    source="MSO5000 programming guide: :ACQuire:MDEPth, the whole record in one :WAVeform:DATA? after *WAI")

# DHO800/900: 12-bit ADC, WORD transfers; the codes are scaled to 16 bits (a published DHO824 capture:
# yreference 32768, 7 500 codes per division at 50 mV/div), so the screen spans 32768 ± 4 div. The rails
# are taken at the screen's edges: what lies beyond them is off screen and may be clipped.
RIGOL_DHO = Capabilities(
    family="rigol-dho", channels=4, vertical_divisions=8, horizontal_divisions=10,
    depths=_flat(1_000, 10_000, 100_000, 1_000_000, 10_000_000, 25_000_000),
    adc_bits=12, code_min=32768 - 4 * 7500, code_max=32768 + 4 * 7500, page_points=125_000, ext_trigger=None,
    source="DHO800/900 programming guide: :ACQuire:MDEPth {1k|10k|100k|1M|10M|25M|50M (DHO900)}, "
           ":WAVeform:FORMat WORD, 125 000 points a read; rails from a published DHO824 capture's scaling")

TEKTRONIX = Capabilities(
    family="tektronix-mso", channels=4, vertical_divisions=10, horizontal_divisions=10,
    depths=_flat(*(1_000 * 10 ** k for k in range(6)), 62_500_000),
    adc_bits=12, code_min=-32768, code_max=32767, page_points=None, ext_trigger=None,
    source="4/5/6 Series MSO programmer manual: CURVe? with DATa:WIDth 2, WFMOutpre fields; 10 vertical "
           "divisions; CH<x>:PROBe:GAIN? for the attached probe")

SIGLENT = Capabilities(
    family="siglent-sds", channels=4, vertical_divisions=8, horizontal_divisions=10,
    depths=_flat(10_000, 100_000, 1_000_000, 10_000_000, 100_000_000),
    adc_bits=8, code_min=-128, code_max=127, page_points=None, ext_trigger=None,
    source="SDS2000X Plus / SDS800X HD programming guide: :WAVeform:PREamble WAVEDESC, :WAVeform:MAXPoint?, "
           "signed BYTE codes")

RS_RTB = Capabilities(
    family="rs-rtb", channels=4, vertical_divisions=10, horizontal_divisions=10,
    depths=_flat(10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000, 2_000_000, 5_000_000,
                 10_000_000, 20_000_000),
    adc_bits=10, code_min=0, code_max=255, page_points=None, ext_trigger=None,
    source="RTB2000 user manual (remote control): FORMat UINT,8, CHANnel<m>:DATA:HEADer?, 10 vertical divisions")

def model_of(idn: str) -> str:
    parts = [p.strip() for p in idn.split(",")]
    return parts[1].upper().replace(" ", "") if len(parts) > 1 else ""


def capabilities_for(family: str, idn: str = "") -> Capabilities:
    """The family's table (named by its entry in instruments/families.py), adjusted for the model in *IDN?."""
    from instruments.families import family_of
    entry = family_of(family)
    if entry is None:
        raise KeyError(f"no scope family {family!r} in instruments/families.py")
    caps = entry.load_capabilities()
    model = model_of(idn)
    if family == "rigol-mso5000" and model.startswith("DHO"):
        caps = RIGOL_DHO
        if model.startswith("DHO9"):            # DHO900: 50 Mpts
            caps = dataclasses.replace(caps, depths=_flat(*caps.depths[1], 50_000_000))
    # the channel count the model's name tells (DS1202Z: two; MSO46: six), where the family names models so
    m = re.match(entry.channels_in_model, model) if entry.channels_in_model else None
    if m is not None and int(m.group(1)) != caps.channels:
        caps = dataclasses.replace(caps, channels=int(m.group(1)))
    return caps
