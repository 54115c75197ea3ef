"""The Export feature: file metadata as CSV, streamed from DynamoDB to S3 or a file.

``service`` reads and writes (I/O), ``csv_shape`` shapes rows safely for
spreadsheets (pure), ``__main__`` is the command line. The page is
``app_pages/export.py``.
"""
