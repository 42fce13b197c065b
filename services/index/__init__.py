"""index: gives each linked article its story cluster and bulk-writes it to OpenSearch behind the
``articles`` alias (app.py, clusters.py, documents.py); ``newsflow reindex`` rebuilds the index (reindex.py)."""
