"""Signing in through the Cognito Hosted UI (``DOCPORTAL_SIGN_IN=hosted``): code flow with PKCE and nonce."""
