"""Stage 3, convert: `ExecutedPost` -> `ConvertedPost` (Markdown and notebook outputs to HTML)."""
