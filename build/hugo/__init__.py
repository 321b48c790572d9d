"""The Hugo-compatible pure core: text metrics, summaries, dates, taxonomy terms."""
