"""Stage 2, execute: `SourcePost` -> `ExecutedPost`, cached in the freeze."""
