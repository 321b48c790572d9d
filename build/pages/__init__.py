"""Stage 4, plan pages: `ConvertedPost` -> post views and the pages of the site."""
