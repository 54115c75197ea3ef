"""The local stand-in's password-reset codes (devstack.reset_codes): written by moto, said by `make run`."""

from __future__ import annotations

import threading

from moto.cognitoidp.models import CognitoIdpBackend

from common import aws
from devstack import reset_codes
from portal.users import recovery
from tests.helpers.users import CHOSEN_PASSWORD, RESET_PASSWORD, create_user


def test_moto_writes_the_code_it_issues_and_the_portal_can_use_it(stack, tmp_path, monkeypatch):
    codes = tmp_path / "reset-codes.log"
    monkeypatch.setattr(CognitoIdpBackend, "forgot_password",
                        reset_codes.wrap(CognitoIdpBackend.forgot_password, codes))
    cognito = aws.client("cognito-idp")
    email = create_user(cognito, stack.user_pool_id, "local", CHOSEN_PASSWORD)
    recovery.send_code(cognito, stack.client_id, email)
    recovery.send_code(cognito, stack.client_id, "nobody@example.com")  # no account: nothing written
    [entry] = codes.read_text().splitlines()
    written_for, code = entry.split("\t")
    assert written_for == email
    recovery.reset(cognito, stack.client_id, email, code, RESET_PASSWORD, RESET_PASSWORD, None)
    cognito.initiate_auth(ClientId=stack.client_id, AuthFlow="USER_PASSWORD_AUTH",
                          AuthParameters={"USERNAME": email, "PASSWORD": RESET_PASSWORD})


def test_make_run_says_each_new_code_marked_local_only(tmp_path):
    codes = tmp_path / "reset-codes.log"
    codes.write_text("old@example.com\tmoto-confirmation-code:111111\n")  # from an earlier run: not said again
    said: list[str] = []
    stop = threading.Event()
    relay = threading.Thread(target=reset_codes.relay, args=(codes, said.append, stop, 0.05, codes.stat().st_size))
    relay.start()
    with codes.open("a") as out:
        out.write("ann@example.com\tmoto-confirmation-code:123456\n")
    deadline = threading.Event()
    for _ in range(100):
        if said:
            break
        deadline.wait(0.05)
    stop.set()
    relay.join()
    assert said == [f"{reset_codes.LABEL}: password reset code for ann@example.com: moto-confirmation-code:123456"]
