"""`make run` keeps the key that seals stored refresh tokens, so sessions outlive a portal restart."""

from __future__ import annotations

from cryptography.fernet import Fernet

from devstack.run import session_key_env

VAR = "DOCPORTAL_SESSION_KEY"


def test_the_first_run_makes_a_key_only_its_owner_reads_and_later_runs_reuse_it(tmp_path):
    first = session_key_env(tmp_path, {"OTHER": "x"})
    again = session_key_env(tmp_path, {})
    assert first[VAR] == again[VAR] and first["OTHER"] == "x"
    Fernet(first[VAR].encode())  # a usable key
    assert (tmp_path / "session.key").stat().st_mode & 0o077 == 0


def test_a_key_in_the_environment_wins_and_nothing_is_written(tmp_path):
    key = Fernet.generate_key().decode()
    assert session_key_env(tmp_path, {VAR: key})[VAR] == key
    assert not (tmp_path / "session.key").exists()
