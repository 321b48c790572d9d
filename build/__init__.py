"""execblog: a static blog generator whose posts are executable notebooks.

The pipeline runs one way, one module per stage:

    content (read posts) -> execute (cached in the freeze) -> notebook_html
    -> pages (ready to render) -> render (Jinja) -> write (the site)
"""

__version__ = "0.1.0"
