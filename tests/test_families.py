"""docs/architecture.md's recipe for a seventh scope family holds: one entry in instruments/families.py (with a
driver module and a persona module) and detection, the bench file, the simulator and the CLI all know it."""

import subprocess
import sys
import textwrap
from pathlib import Path

from instruments.families import FAMILIES, driver_names, family_for_idn, persona_names

ROOT = Path(__file__).resolve().parents[1]


def test_every_family_loads_its_driver_persona_and_capabilities():
    for family in FAMILIES:
        driver = family.load_driver()
        assert driver.driver_name == family.driver
        assert family.load_capabilities().family == family.driver
        assert family.personas, f"{family.driver} has no simulator persona"


def test_detection_reads_the_table():
    # *IDN? replies as the guides print them (Keysight 3000T: "KEYSIGHT TECHNOLOGIES,DSO-X 3024T,..." and
    # R&S RTB2000: "Rohde&Schwarz,RTB2004,...")
    assert family_for_idn("KEYSIGHTTECHNOLOGIES", "DSO-X3024T").driver == "keysight-infiniivision"
    assert family_for_idn("ROHDE&SCHWARZ", "RTB2004").driver == "rs-rtb"
    assert family_for_idn("RIGOLTECHNOLOGIES", "DS1054Z").driver == "rigol-ds1000z"
    assert family_for_idn("RIGOLTECHNOLOGIES", "DHO804").driver == "rigol-mso5000"
    assert family_for_idn("ACME", "X1") is None


def test_a_seventh_family_is_one_entry(tmp_path):
    """A fake family registered in the table before anything else is imported shows up in detection, the
    bench file's legal drivers, the bench panel's choices, the simulator's personas and `sim-scope --persona`."""
    (tmp_path / "acme_family.py").write_text(textwrap.dedent('''
        import dataclasses
        from instruments import capabilities
        from instruments.keysight import KeysightInfiniiVision
        from instruments.sim.personas.keysight import KeysightPersona

        ACME_CAPS = dataclasses.replace(capabilities.KEYSIGHT, family="acme-x")

        class AcmeScope(KeysightInfiniiVision):
            driver_name = "acme-x"

        class AcmePersona(KeysightPersona):
            idn = "ACME,X100,0001,1.0"
    '''))
    probe = textwrap.dedent('''
        import instruments.families as f
        f.FAMILIES.append(f.ScopeFamily("acme-x", "acme_family:AcmeScope", makers=("ACME",), models=("X",),
                                        personas={"acme": "acme_family:AcmePersona"},
                                        capabilities="acme_family:ACME_CAPS"))
        from instruments.detect import driver_for_idn
        from app.bench.config import DRIVERS
        from app.ui.bench_panel import CHOICES
        from instruments.sim.personas import PERSONAS
        from app.cli import build_parser
        print(driver_for_idn("ACME,X100,0001,1.0"), "acme-x" in DRIVERS, "acme-x" in CHOICES["driver"],
              PERSONAS["acme"].__name__)
        build_parser().parse_args(["sim-scope", "--persona", "acme"])
        print("cli ok")
    ''')
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                         cwd=ROOT, env={"PYTHONPATH": f"{ROOT}:{tmp_path}", "QT_QPA_PLATFORM": "offscreen",
                                        "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["acme-x", "True", "True", "AcmePersona", "cli", "ok"]


def test_the_tables_agree_with_the_bench_and_the_cli():
    from app.bench.config import DRIVERS
    assert DRIVERS == ("auto", *driver_names())
    assert set(persona_names()) >= {"keysight", "rigol", "rigol-dho", "tektronix", "siglent", "rs"}
