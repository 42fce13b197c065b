"""index: bulk-writes linked articles to OpenSearch behind the ``articles`` alias."""
