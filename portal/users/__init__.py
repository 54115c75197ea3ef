"""The Users and Account features: people in the Cognito pool, and one's own second factor.

``service`` (admins manage users) and ``mfa`` (a user's authenticator app)
talk to Cognito; ``accounts`` and ``totp`` are pure. The pages are
``app_pages/users.py`` and ``app_pages/account.py``.
"""
