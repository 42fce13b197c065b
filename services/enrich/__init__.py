"""enrich: language, reading time, sentiment, topics, keywords, summary, takeaways, story signature."""
