"""``docportal`` without a stack: the kept login (modes, refresh, refusal), arguments and exit codes."""

from __future__ import annotations

import io
import json
import os
import stat
import time

import pytest

from api.cli import commands, login
from api.cli.http import REFUSED, UNREACHABLE, USAGE, CliError, Reply, refused
from devstack.processes import free_port
from tests.helpers.machine_tokens import client_credentials_endpoint


@pytest.fixture
def env(tmp_path):
    """A clean environment whose config folder is the test's own."""
    return {"XDG_CONFIG_HOME": str(tmp_path / "config"), "HOME": str(tmp_path)}


def run(env, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return commands.main(list(argv), out=out, env=env), out.getvalue()


def a_login(**changes) -> login.Login:
    base = {"kind": "machine", "who": "script", "token": "t", "expires_at": time.time() + 3600}
    return login.Login(**{**base, **changes})  # type: ignore[arg-type]


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


# --- the kept login -----------------------------------------------------------------------


def test_the_login_is_kept_in_a_private_folder_and_file(env, tmp_path):
    old = os.umask(0)  # even when the shell would let everyone read new files
    try:
        path = login.save(a_login(), env)
    finally:
        os.umask(old)
    assert path == tmp_path / "config" / "docportal" / "login.json"
    assert (mode(path.parent), mode(path)) == (0o700, 0o600)
    assert login.load(env) == a_login(expires_at=json.loads(path.read_text())["expires_at"])


def test_without_xdg_config_home_it_is_under_home(tmp_path):
    assert login.folder({"HOME": str(tmp_path)}) == tmp_path / ".config" / "docportal"


def test_a_login_others_may_read_is_refused_not_used(env):
    path = login.save(a_login(), env)
    path.chmod(0o644)
    with pytest.raises(CliError) as refused_:
        login.load(env)
    assert refused_.value.code == USAGE and "may be read by others (mode 644)" in str(refused_.value)
    assert run(env, "files")[0] == USAGE


def test_a_damaged_login_is_refused(env):
    path = login.save(a_login(), env)
    path.write_text("{not json")
    with pytest.raises(CliError, match="damaged"):
        login.load(env)


def test_logout_forgets_the_login(env):
    login.save(a_login(), env)
    assert run(env, "logout") == (0, "Signed out.\n")
    assert login.load(env) is None
    assert run(env, "logout") == (0, "Not signed in.\n")


def test_a_scripts_login_gets_a_new_token_only_once_the_kept_one_expires(env):
    with client_credentials_endpoint(expires_in=3600) as endpoint:
        env = {**env, "DOCPORTAL_TOKEN_URL": endpoint.url}
        assert run(env, "login", "--client-id", "script", "--client-secret", "s3cret")[0] == 0
        assert login.current(env).token == "machine-token-1"
        assert login.current(env).token == "machine-token-1"  # still valid: not asked again
        expired = login.current(env, now=time.time() + 3600)
        assert expired.token == "machine-token-2"
        assert login.load(env).token == "machine-token-2"  # the new one is kept
    assert [auth for auth, _ in endpoint.seen] == [endpoint.expected_basic()] * 2
    assert mode(login.folder(env) / "login.json") == 0o600


def test_wrong_client_credentials_exit_2(env):
    with client_credentials_endpoint() as endpoint:
        code, _ = run({**env, "DOCPORTAL_TOKEN_URL": endpoint.url}, "login", "--client-id", "script",
                      "--client-secret", "wrong")
    assert code == USAGE


# --- arguments and exit codes -------------------------------------------------------------


def test_login_without_saying_who_exits_2(env, capsys):
    assert run(env, "login")[0] == USAGE
    assert "--user EMAIL" in capsys.readouterr().err


def test_a_machine_login_without_a_token_url_exits_2(env, capsys):
    assert run(env, "login", "--client-id", "script", "--client-secret", "s")[0] == USAGE
    assert "DOCPORTAL_TOKEN_URL" in capsys.readouterr().err


def test_not_signed_in_exits_2_saying_how(env, capsys):
    assert run(env, "files")[0] == USAGE
    assert "docportal login" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["export", "--from", "2026-01-01"], ["status"], ["upload"], ["nonsense"],
                                  ["status", "x", "--timeout", "soon"]])
def test_bad_arguments_exit_2(env, argv):
    with pytest.raises(SystemExit) as ended:
        run(env, *argv)
    assert ended.value.code == USAGE


def test_an_unreadable_setting_exits_2(env, capsys):
    assert run({**env, "DOCPORTAL_API_PORT": "many"}, "files")[0] == USAGE
    assert "DOCPORTAL_API_PORT" in capsys.readouterr().err


def test_an_unreachable_api_exits_3(env, capsys):
    code, _ = run({**env, "DOCPORTAL_API_URL": f"http://127.0.0.1:{free_port()}", "DOCPORTAL_API_TOKEN": "t"},
                  "files")
    assert code == UNREACHABLE
    assert "cannot reach 127.0.0.1" in capsys.readouterr().err


def test_an_unreachable_pool_exits_3(env, capsys):
    code, _ = run({**env, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}", "AWS_REGION": "us-east-1",
                   "DOCPORTAL_CLIENT_ID": "c", "DOCPORTAL_API_PASSWORD": "p"}, "login", "--user", "a@example.com")
    assert code == UNREACHABLE


def test_a_missing_file_exits_2_before_anything_is_sent(env, tmp_path, capsys):
    code, _ = run({**env, "DOCPORTAL_API_URL": f"http://127.0.0.1:{free_port()}", "DOCPORTAL_API_TOKEN": "t"},
                  "upload", str(tmp_path / "missing.pdf"))
    assert code == USAGE and "no such file" in capsys.readouterr().err


def test_refusals_carry_the_problems_detail_and_a_401_asks_to_sign_in_again():
    problem = json.dumps({"title": "Not allowed", "detail": "Only analysts and admins may export."}).encode()
    forbidden = refused(Reply(403, "application/problem+json", problem))
    assert forbidden.code == REFUSED and "Only analysts and admins may export." in str(forbidden)
    expired = refused(Reply(401, "application/json", b'{"message": "Unauthorized"}'))
    assert expired.code == USAGE and "docportal login" in str(expired)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_progress_is_one_line_redrawn_and_elsewhere_a_line_per_file(tmp_path):
    from api.cli.transfer import Outcome, Progress

    screen = Terminal()
    bar = Progress(2_000_000, 2, screen)
    bar.add(1_000_000)
    bar.finished(Outcome(tmp_path / "a.pdf", 1_000_000, file_id="f1"))
    assert screen.getvalue().startswith("\r[###############               ]  50% 1.0/2.0 MB 0/2 files")
    assert "\n" not in screen.getvalue()
    log = io.StringIO()
    lines = Progress(10, 2, log)
    lines.add(10)
    lines.finished(Outcome(tmp_path / "a.pdf", 10, file_id="f1"))
    lines.finished(Outcome(tmp_path / "b.pdf", 0, error="too large"))
    assert log.getvalue() == "[1/2] a.pdf: stored f1\n[2/2] b.pdf: refused: too large\n"


def test_a_person_signs_in_at_make_runs_pool_from_its_stack_file(env, tmp_path, capsys):
    from common.settings import Settings

    Settings(region="us-east-1", endpoint_url=f"http://127.0.0.1:{free_port()}", client_id="portal",
             user_pool_id="us-east-1_x").dump(tmp_path / "state" / "stack.json")
    code, _ = run({**env, "DOCPORTAL_STATE_DIR": str(tmp_path / "state"), "DOCPORTAL_API_PASSWORD": "p"},
                  "login", "--user", "a@example.com")
    assert code == UNREACHABLE  # it went to the stack file's pool (no one listens there)
    assert run({**env, "DOCPORTAL_STATE_DIR": str(tmp_path / "none")}, "login", "--user", "a@example.com")[0] \
        == USAGE
    assert "DOCPORTAL_CLIENT_ID" in capsys.readouterr().err
