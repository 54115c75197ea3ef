"""The Dashboard feature: figures from the pre-aggregated counters.

``data`` reads the cells a viewer may see (I/O); ``analytics`` turns them
into KPIs and series, ``labels`` into words and ``charts`` into plotly
figures (all pure). The page is ``app_pages/dashboard.py``.
"""
