"""``docportal``, the API's command-line client: standard library only, so it runs wherever Python does.

``commands`` (the command line), ``login`` (signing in, the kept login),
``transfer`` (files straight to S3, a form or parts), ``http`` (requests,
the API's refusals and the exit codes: 0 done, 1 refused or a file failed,
2 usage, sign-in or an expired login, 3 the API or the pool unreachable).
"""
