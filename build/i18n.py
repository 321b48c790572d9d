"""UI strings from `theme/i18n/<lang>.yaml`, with CLDR plural rules (Babel).

A string is either plain text or a mapping of CLDR plural categories
(zero/one/two/few/many/other) to text with a `{count}` placeholder. Japanese
has only "other"; English has "one" and "other".
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel import Locale

from execblog import safe_yaml
from execblog.errors import BuildError
from execblog.hugo.dates import inherited


def available_languages(site_dir: Path) -> set[str]:
    folder = site_dir / "theme" / "i18n"
    return {p.stem for p in folder.glob("*.yaml")} if folder.is_dir() else set()


class Translator:
    def __init__(self, site_dir: Path, language: str):
        path = site_dir / "theme" / "i18n" / f"{language}.yaml"
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise BuildError(f"no UI strings for language `{language}`", path) from None
        self.table = safe_yaml.load(text, path) or {}
        self.path = path
        self.plural_form = _plural_rule(language)

    def has(self, key: str) -> bool:
        return key in self.table

    def __call__(self, key: str, count: int | None = None, **values: object) -> str:
        try:
            entry = self.table[key]
        except KeyError:
            raise BuildError(f"missing UI string `{key}`", self.path, hint=f"add `{key}:` to this file") from None
        if isinstance(entry, dict):
            form = self.plural_form(count if count is not None else 0)
            chosen = entry.get(form, entry.get("other", ""))
            text = "" if chosen is None else str(chosen)  # `one:` left empty in the YAML is None
        else:
            text = str(entry)
        if count is not None:
            values["count"] = count
        for name, value in values.items():
            text = text.replace("{" + name + "}", str(value))
        return text


@cache
def _plural_rule(language: str):
    # The locale's own data holds its rule: Locale.plural_form would merge all of its data first (~15 ms).
    locale = Locale.parse(language.replace("-", "_"))
    return inherited(str(locale), "plural_form") or locale.plural_form
