"""The one table's item schema and the S3 key layout, shared by the portal and the extractor. Pure.

One DynamoDB table holds every file as one item, a duplicate marker per
owner and content, and the dashboards' pre-aggregated counters. Each module
here owns one part of that and nothing else; callers import from the module
that holds what they need:

=============== ===================================================================
module          holds
=============== ===================================================================
``keys``        item keys, the owner index, day strings and the S3 object key layout
``record``      :class:`~common.schema.record.FileRecord` and its item codec
``lifecycle``   how a file's record changes: claimed, finished, expired, deleted, retried
``aggregates``  the counter cells a file contributes to, histograms, people's names
``compaction``  merging a cell's shard items into one, exactly
``timeline``    the upload-time index's shards merged oldest first, page positions
``requests``    every DynamoDB request the table is read or written with
=============== ===================================================================
"""
