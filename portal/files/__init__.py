"""The Files feature: uploads, the explorer, a file's detail, download, preview, retry and delete.

``service`` and ``uploads`` do the I/O (DynamoDB, S3), checking every call
against :mod:`portal.access`; ``explorer``, ``views`` and ``upload_policy``
are pure. A file's preview is the PNG the extractor drew and stored: it is
read and handed to the browser, never decoded here. The pages are
``app_pages/files.py`` and ``app_pages/upload.py``.
"""
