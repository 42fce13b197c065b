"""ingest: raw documents (files, records, pages, feeds) in; clean ``ArticleIngested`` out."""
