"""ingest: raw documents (files, records, pages, feeds) in; clean ``ArticleIngested`` out.

Pure core (no network, no state):
    articles        a submission -> an article; hints win over what is read
    captured_text   padding removal and fact reading for captured text / markdown
    lines           what kind of line a line is (the rules behind captured_text)
    topical         how close a passage is to the article (teasers, titles, summaries)
    attribution     "Original source: X", "via X", "(Wire) -", canonical links elsewhere
    html_page       trafilatura (precision) + our metadata reader; padding_filter after it
    feeds           RSS / Atom (feedparser) and JSON Feed -> entries -> submissions
    dates, charset  written dates; encodings of fetched bytes
    sources         the source registry (deploy/sources.yaml), validated

Edges:
    fetch           hostile-web HTTP: address checks per connection, caps, timeouts, politeness
    state, dedupe   compare-and-set store (memory or NATS KV); exact-duplicate dropping
    poller          per-source polling with leases, conditional GET and back-off
    app             the worker (offline ``process`` / service ``process_batch``) and the app
"""
