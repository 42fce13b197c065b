"""readability: Flesch reading ease and Flesch–Kincaid grade of each article's body.

An enrichment service in one folder, made from services/_template (docs/new-service.md). It reads
and writes ``ArticleEnriched``, so it sits between ``enrich`` and ``entity_link``, and it adds one
key to the article's open ``enrichments`` map, so no other service and no index mapping changes.
"""
