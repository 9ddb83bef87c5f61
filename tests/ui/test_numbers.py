"""One way of writing numbers (app/report/numbers.py, issue 25), against expectations written by hand from the
rule in its docstring: the uncertainty to two significant digits, the value to the same decimal place, halves
away from zero, SI prefixes with a unit, never float noise."""

import math

import pytest

from app.report.numbers import format_percent, format_value, with_uncertainty

WITH_U = [
    # value, u, unit, expected (worked out by hand)
    (37.6634, 0.6412, "", "37.66 ± 0.64"),            # the example: u's 2nd digit is the hundredths
    (2418.5, 1110, "", "2400 ± 1100"),                # u's 2nd digit is the hundreds
    (2418.5, 1110, "J", "2.4 ± 1.1 kJ"),              # with a unit: a prefix from the larger of |v| and u
    (0.0036, 0.00021, "J", "3.60 ± 0.21 mJ"),         # the value keeps its trailing zero: it is significant
    (3.7564, 0.22, "", "3.76 ± 0.22"),
    (1.0, 0.996, "", "1.0 ± 1.0"),                    # 0.996 rounds to 1.0: the place moves one to the left
    (0.125, 0.0123, "", "0.125 ± 0.012"),
    (71.105, 2.0, "", "71.1 ± 2.0"),                  # 71.105 at tenths: 71.1 (not 71.105 ± 2)
    (31.035, 0.0105, "", "31.035 ± 0.011"),           # 0.0105 halves up to 0.011
    (-0.0004, 0.05, "", "0.000 ± 0.050"),             # no "-0.000"
    (1.23e-5, 1.2e-6, "", "(12.3 ± 1.2)e-06"),        # no unit, tiny: an exponent in steps of three
    (5e7, 2e6, "", "(50.0 ± 2.0)e+06"),
    (12.5, 0.25, "W", "12.50 ± 0.25 W"),
    (31.035, None, "", "31.04"),                      # no uncertainty: 4 significant digits, no dangling "±"
    (31.035, 0.0, "", "31.04"),
    (31.035, math.nan, "", "31.04"),
    (None, 0.3, "", ""),                              # nothing to write: an empty cell
]

VALUES = [
    (1600.0, "", 4, "1600"),                          # never "1.6e+03"
    (0.36089583, "A", 4, "360.9 mA"),
    (0.99996, "J", 4, "1 J"),                         # 999.96 mJ rounds to 1000 mJ: said as 1 J
    (10.0, "W", 4, "10 W"),
    (0.1 + 0.2, "", 4, "0.3"),                        # 0.30000000000000004: no float noise
    (1.6e-7, "", 4, "160e-09"),
    (0.0, "s", 4, "0 s"),
    (2418.5, "", 4, "2419"),                          # a half rounds away from zero, on the decimal digits
    (123456.0, "J", 3, "123 kJ"),
]


@pytest.mark.parametrize("value,u,unit,expected", WITH_U)
def test_a_value_with_its_uncertainty(value, u, unit, expected):
    assert with_uncertainty(value, u, unit) == expected


@pytest.mark.parametrize("value,unit,digits,expected", VALUES)
def test_a_value_alone(value, unit, digits, expected):
    assert format_value(value, unit, digits) == expected


def test_missing_and_percent():
    assert with_uncertainty(None, None, missing="—") == "—" and format_value("x", missing="—") == "—"
    assert format_percent(0.5494) == "54.9 %" and format_percent(1.0) == "100 %"


def test_the_review_result_line_and_the_html_report_use_it(tmp_path):
    from app.report.html import write_html_report
    from app.ui.session_browser import result_text
    from tests.session_factory import write_session
    record = {"energy_j": 2418.5, "uncertainty_j": 1110.0, "energy_method": "integrated", "duration_s": 1.5}
    assert result_text(record).startswith("E = 2.4 ± 1.1 kJ (integrated), T = 1.5 s")
    path = tmp_path / "s.h5"
    write_session(path, [(4.0, 10.0, 0.5)], workload="known")
    page = write_html_report([path], tmp_path / "r.html").read_text(encoding="utf-8")
    assert "e+0" not in page.split("<h2>Comparison")[0]          # no exponent in the table
    assert "± </td>" not in page and "±</td>" not in page         # no dangling "±"
    # the session was written with scope resource "sim": the report says it is not a measurement
    assert "SIMULATED BENCH" in page
