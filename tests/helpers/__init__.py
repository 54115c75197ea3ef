"""What tests share: factories, events, files, the AWS stand-ins, page runners. No tests here.

Test modules import from this package, never from each other; fixtures live
in the ``conftest.py`` files and build on these helpers.
"""
