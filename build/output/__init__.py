"""Stage 5, output: render pages with Jinja and write the site atomically."""
