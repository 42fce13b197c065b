"""alerts: saved searches that fire as articles arrive.

The stage after ``index``: for each batch of ``ArticleIndexed`` it percolates the articles, as
OpenSearch stored them, against the saved searches (shared/search/alerts.py) and publishes one
``AlertMatched`` per (alert, article), or per (alert, story) for alerts that fire once per story.
Webhook delivery is a separate consumer of those messages (services/webhooks).
"""
