"""The emulator keeps working when its port is taken between picking and binding it (a
parallel test worker, or an outbound connection holding that local port)."""

import socket

import pytest

from tests.harness import aws as harness

emulator_module = __import__("emulator")


def test_free_port_is_below_the_ephemeral_range_and_bindable():
    low = emulator_module._ephemeral_range()[0]
    for _pick in range(20):
        port = harness.free_port()
        assert 1024 <= port < low
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))


@pytest.fixture
def taken_port():
    """A port another process listens on (it never answers HTTP)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", harness.free_port()))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.parametrize("realistic", [None, "all"], ids=["plain", "realistic"])
def test_a_taken_port_is_given_up_for_another(tmp_path, monkeypatch, taken_port, realistic):
    picks = [taken_port]
    real_free_port = emulator_module.free_port
    monkeypatch.setattr(emulator_module, "free_port", lambda: picks.pop(0) if picks else real_free_port())
    emu = harness.Emulator.on_free_port(tmp_path, realistic=realistic, timeout=30)
    try:
        assert emu.port != taken_port
        assert emu.ready()
        assert not picks, "the taken port was never tried"
        assert "Address already in use" in (tmp_path / f"moto-{taken_port}.log").read_text()
    finally:
        emu.stop()


def test_a_port_taken_on_every_attempt_fails_with_the_cause(tmp_path, monkeypatch, taken_port):
    monkeypatch.setattr(emulator_module, "free_port", lambda: taken_port)
    with pytest.raises(emulator_module.PortTaken, match=f"port {taken_port}"):
        harness.Emulator.on_free_port(tmp_path, attempts=2, timeout=30)
