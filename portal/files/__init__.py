"""The Files feature: uploads, the explorer, a file's detail, download, preview, retry and delete.

``service`` and ``uploads`` do the I/O (DynamoDB, S3), checking every call
against :mod:`portal.access`; ``explorer``, ``views``, ``preview`` and
``upload_policy`` are pure; ``pdf_preview`` draws a PDF's first page in a
capped child process. The pages are ``app_pages/files.py`` and ``app_pages/upload.py``.
"""
