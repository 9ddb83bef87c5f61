"""A mistyped scope.resource gets one line that says what is wrong, not pyvisa-py's bare exception (a typo in
the port) or an unrelated errno (a host name that does not resolve)."""

import pytest

from instruments.errors import InstrumentError
from instruments.visa import VisaTransport


@pytest.mark.parametrize("resource, words", [
    ("TCPIP::127.0.0.1::50x5::SOCKET", "the port '50x5' is not a TCP port"),
    ("TCPIP::127.0.0.1::70000::SOCKET", "the port '70000' is not a TCP port"),
    # RFC 6761: .invalid names never resolve
    ("TCPIP::no-such-scope.invalid::5025::SOCKET", "the host name 'no-such-scope.invalid' does not resolve"),
    ("TCPIP::no-such-scope.invalid::INSTR", "does not resolve"),
])
def test_a_mistyped_resource_is_named_before_connecting(resource, words):
    with pytest.raises(InstrumentError, match=words):
        VisaTransport(resource, timeout_s=1)
