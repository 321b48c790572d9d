"""`make new TITLE=...`: a new post with front matter filled in."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from execblog.config import load_config
from execblog.errors import BuildError
from execblog.hugo.taxonomies import urlize

NOTEBOOK_HEADER = """jupyter:
  jupytext:
    text_representation:
      extension: .md
      format_name: markdown
  kernelspec:
    display_name: execblog
    language: python
    name: execblog
"""

NOTEBOOK_BODY = """
Write the introduction here.

```python tags=["parameters"]
# Parameters: readers and profiles can override these (make publish P='n=20').
n = 10
```

```python
print(sum(range(n)))
```
"""


def new_post(site_dir: Path, title: str, notebook: bool = False) -> Path:
    config = load_config(site_dir)
    now = datetime.now(config.zone).replace(microsecond=0)
    slug = urlize(title)
    if not slug.isascii() or slug == "-":
        slug = now.strftime("%Y-%m-%d-%H%M")  # a non-Latin title still gets a stable, typeable file name
    path = site_dir / "posts" / f"{slug}.md"
    if path.exists():
        raise BuildError("a post with this name exists already", path, hint="choose another title")
    # a JSON string is a YAML string: quotes, backslashes and newlines in the title stay as typed
    front = f"---\ntitle: {json.dumps(title, ensure_ascii=False)}\ndate: {now.isoformat()}\ndraft: true\ntags: []\n"
    if notebook:
        front += NOTEBOOK_HEADER
    front += "---\n"
    body = NOTEBOOK_BODY if notebook else "\nWrite the post here.\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(front + body, encoding="utf-8")
    return path
