"""The OpenSearch backend: the same index on a cluster (see indexer/engine.py for the interface).

::

    client.py   Connection (picklable settings) and the opensearch-py adapter: the only
                module that imports opensearchpy; cluster errors become zhsearch errors
    mapping.py  index settings and mappings; AnalysedPost -> document
    engine.py   read side: OpenSearchEngine (queries built from ParsedQuery)
    writer.py   write side: OpenSearchWriter (lock, meta, generations, alias switch),
                OpenSearchPart (bulk indexing from worker processes)

Names in the cluster, for an index name ``zhsearch``::

    zhsearch            alias: the live generation (what readers search)
    zhsearch-000003     a physical index, one per full rebuild
    zhsearch-meta       the writer lock (doc "lock") and each generation's meta
                        (doc "gen-000003": fingerprint, source folder, times,
                        the user dictionary's text)
"""
