"""Stage 1, read: post files -> `SourcePost` records (front matter validated once)."""
