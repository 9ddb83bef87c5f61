"""Test-wide settings: Qt runs offscreen (no display on CI); one throwaway sshd for the SSH tests."""

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session")
def sshd(tmp_path_factory):
    from tests.workloads.sshd import start_sshd
    server = start_sshd(tmp_path_factory.mktemp("sshd"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sshd_no_sftp(tmp_path_factory):
    """A board whose SSH server offers no SFTP subsystem (dropbear images, hardened servers)."""
    from tests.workloads.sshd import start_sshd
    server = start_sshd(tmp_path_factory.mktemp("sshd-no-sftp"), sftp=False)
    yield server
    server.stop()
