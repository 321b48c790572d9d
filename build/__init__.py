"""execblog: a static blog generator whose posts are executable notebooks.

The pipeline runs one way, one subpackage per stage (see docs/architecture.md):

    content (read posts) -> execution (cached in the freeze) -> convert (to HTML)
    -> pages (plan the site) -> output (render with Jinja, write atomically)

`pipeline.build_site` only sequences them; `records` holds the types they pass.
"""

__version__ = "0.1.0"
