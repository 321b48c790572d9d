"""Site configuration: `site_config.yaml`, validated once at load.

Every key is declared here with its type and default; an unknown key, a wrong
type or a bad value stops the build with the file, the line and the fix. The
rest of the code trusts the resulting `SiteConfig`.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from execblog import safe_yaml
from execblog.errors import BuildError
from execblog.hugo.related import RelatedConfig

CONFIG_FILE = "site_config.yaml"
LAYOUTS_DIR = "layouts"  # a site's own templates, over the theme's (Hugo's layouts/)
DEFAULT_TAXONOMIES = {"tag": "tags", "category": "categories"}
# URL folders other pages and the theme's files use: a taxonomy there would overwrite them.
_RESERVED_FOLDERS = {"archives", "search", "page", "assets"}
_TAXONOMY_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")


@dataclass(frozen=True)
class MenuItem:
    name: str
    url: str
    weight: int = 0


@dataclass(frozen=True)
class Markup:
    unsafe_html: bool = False  # Hugo's goldmark default: raw HTML omitted
    typographer: bool = True
    math: bool = True
    highlight: bool = True
    light_style: str = "friendly"
    dark_style: str = "github-dark"


@dataclass(frozen=True)
class Show:
    """PaperMod's switches: each item of the meta line and each page feature."""

    date: bool = True
    reading_time: bool = True
    word_count: bool = True
    author: bool = True
    toc: bool = False  # site default; front matter `toc` overrides per post
    breadcrumbs: bool = True
    post_nav_links: bool = True
    code_copy_buttons: bool = True
    theme_toggle: bool = True
    search: bool = True
    rss: bool = True
    tags_on_post: bool = True
    series: bool = True  # the box listing a series' parts on each of its posts (taxonomy `series`)


@dataclass(frozen=True)
class Related(RelatedConfig):
    """Hugo's `related` settings, plus how many related posts a post shows."""

    count: int = 0  # 0 = none, as PaperMod shows none


@dataclass(frozen=True)
class Feed:
    full_content: bool = False  # PaperMod's ShowFullTextinRSS: the whole post, not the summary


@dataclass(frozen=True)
class SocialCards:
    """A generated og:image for posts without a `cover` (pages/social_card.py)."""

    enabled: bool = False
    figure: bool = True  # the post's first figure on the card


@dataclass(frozen=True)
class Giscus:
    """giscus.app comments: the ids come from its configuration page."""

    repo: str  # owner/name
    repo_id: str
    category: str
    category_id: str
    mapping: str = "pathname"  # pathname | url | title | og:title
    reactions: bool = True
    input_position: str = "bottom"  # top | bottom
    lang: str = ""  # "" = the site's language


@dataclass(frozen=True)
class Comments:
    giscus: Giscus | None = None


@dataclass(frozen=True)
class Plausible:
    domain: str  # the site as Plausible knows it, e.g. example.org
    src: str = "https://plausible.io/js/script.js"  # another https URL for a self-hosted instance


@dataclass(frozen=True)
class GoogleAnalytics:
    id: str  # a GA4 measurement id, G-XXXXXXX


@dataclass(frozen=True)
class Analytics:
    plausible: Plausible | None = None
    google: GoogleAnalytics | None = None


@dataclass(frozen=True)
class Repository:
    """Where the site's source is on GitHub: executable posts link to their executed
    notebook in the committed freeze ("Open in Colab", "view on GitHub"); off when `url` is unset."""

    url: str = ""  # https://github.com/owner/name
    branch: str = "main"  # the default branch, the one the freeze is committed to
    path: str = ""  # the site's folder inside the repository ("" = its root)


@dataclass(frozen=True)
class HomeInfo:
    title: str = ""
    content: str = ""


@dataclass(frozen=True)
class Profile:
    parameters: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    models: str = "auto"  # auto | offline | real (how declared models are resolved)
    standin_size: str = "tiny"  # tiny (seconds on a CPU) | real (the real architectures' sizes)
    strict: bool = False  # refuse to run without CUDA, fail on any failed post


@dataclass(frozen=True)
class StandinRecipe:
    """How to build one model id's offline stand-in (execblog.models.standins; README, "Profiles and models")."""

    recipe: str  # the kind: gpt2, stable-diffusion, or one an installed package registers
    tokenizer: str = ""  # "" = the kind's default (gpt2 / clip); or sentencepiece
    corpus: tuple[str, ...] = ()  # tokenizer training text files, relative to the site; () = built-in text
    vocab_size: int = 0  # the trained tokenizer's size; 0 = the default
    real: dict[str, Any] = field(default_factory=dict)  # the real architecture's sizes (standin_size: real)
    fp16_variant: bool = False  # also write the *.fp16.safetensors files (from_pretrained(variant="fp16"))
    line: int | None = field(default=None, compare=False)  # where site_config.yaml declares it (for errors)


# Modules whose versions a post's provenance records, when the post imported them.
DEFAULT_PROVENANCE_PACKAGES = ("torch", "transformers", "diffusers", "numpy", "pandas", "matplotlib")


@dataclass(frozen=True)
class Execution:
    freeze_dir: str = "_freeze"
    kernel: str = "execblog"
    cell_timeout: int = 600  # seconds
    post_timeout: int = 3600
    jobs: int = 1
    gpu_slots: int = 1
    warnings: bool = True  # show stderr outputs
    sanitize_html: bool = True
    secret_env: tuple[str, ...] = ()  # extra env var names whose values are secret
    standins_dir: str = ".cache/standins"
    provenance_packages: tuple[str, ...] = DEFAULT_PROVENANCE_PACKAGES  # import names


@dataclass(frozen=True)
class SiteConfig:
    title: str
    base_url: str = "http://localhost:1313/"
    language: str = "ja"
    description: str = ""
    author: str = ""
    time_zone: str = "UTC"
    date_format: str = "January 2, 2006"
    has_cjk_language: bool = False
    summary_length: int = 70
    paginate: int = 10
    posts_section: str = "posts"
    # Hugo's `taxonomies:` map, singular: plural. The plural is the front matter key
    # (any case), the URL folder (`/tags/<term>/`) and the i18n key of the title.
    taxonomies: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_TAXONOMIES))
    markup: Markup = field(default_factory=Markup)
    show: Show = field(default_factory=Show)
    home_info: HomeInfo = field(default_factory=HomeInfo)
    related: Related = field(default_factory=Related)
    feed: Feed = field(default_factory=Feed)
    social_cards: SocialCards = field(default_factory=SocialCards)
    comments: Comments = field(default_factory=Comments)
    analytics: Analytics = field(default_factory=Analytics)
    repository: Repository = field(default_factory=Repository)
    menu: tuple[MenuItem, ...] = ()
    execution: Execution = field(default_factory=Execution)
    profiles: dict[str, Profile] = field(default_factory=dict)
    default_profile: str = "auto"
    standins: dict[str, StandinRecipe] = field(default_factory=dict)  # model id -> stand-in recipe
    bundled_models: dict[str, str] = field(default_factory=dict)  # model id -> the module that ships it
    params: dict[str, Any] = field(default_factory=dict)  # free-form, for templates

    # Derived, not read from the file.
    site_dir: Path = Path(".")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


_DERIVED = {"site_dir", "line"}  # set by the loader, never read from YAML


def load_config(site_dir: Path) -> SiteConfig:
    path = site_dir / CONFIG_FILE
    if not path.is_file():
        raise BuildError(
            f"no {CONFIG_FILE} in {site_dir}",
            hint=f"run from a site folder (one holding {CONFIG_FILE}, posts/ and theme/) or pass -s DIR",
        )
    text = safe_yaml.decode_text(path.read_bytes(), path)
    safe_yaml.check_length(text, path)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        raise safe_yaml.syntax_error(exc, text, path) from None
    if node is None:
        raise BuildError("the config is empty", path, 1, "set at least `title:`")
    safe_yaml.check_size(node, path)
    config = _build(SiteConfig, node, path, "")
    config = dataclasses.replace(config, site_dir=site_dir)
    _check_values(config, node, path)
    return config


def parse_config_text(text: str, site_dir: Path) -> SiteConfig:
    """For tests: validate a config given as text (reported as site_config.yaml)."""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    config = _build(SiteConfig, node, site_dir / CONFIG_FILE, "")
    config = dataclasses.replace(config, site_dir=site_dir)
    _check_values(config, node, site_dir / CONFIG_FILE)
    return config


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _key_node(mapping: yaml.MappingNode, key: str) -> yaml.Node:
    for k, v in mapping.value:
        if k.value == key:
            return v
    return mapping


def _build(cls: type, node: yaml.Node, path: Path, prefix: str):
    if not isinstance(node, yaml.MappingNode):
        raise BuildError(f"`{prefix or 'the config'}` must be a mapping", path, _line(node))
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in _DERIVED}
    values: dict[str, Any] = {}
    for key_node, value_node in node.value:
        key = key_node.value
        dotted = f"{prefix}.{key}" if prefix else key
        if key not in fields:
            close = difflib.get_close_matches(key, fields, n=1)
            hint = f"did you mean `{close[0]}`?" if close else "allowed keys: " + ", ".join(sorted(fields))
            raise BuildError(f"unknown key `{dotted}`", path, _line(key_node), hint)
        values[key] = _convert(hints[key], value_node, path, dotted)
    missing = [
        name
        for name, f in fields.items()
        if name not in values and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise BuildError(f"missing required key `{prefix + '.' if prefix else ''}{missing[0]}`", path, _line(node))
    return cls(**values)


def typed_value(tp: Any, node: yaml.Node, path: Path, name: str) -> Any:
    """`node` (composed so that its marks are the file's lines) as the type `tp`,
    or a BuildError at its line with the fix. The one validator of YAML values:
    `site_config.yaml` here, front matter in content/read.py. Types: bool, int,
    float, str, Literal[...], tuple[T, ...], dict[str, T], T | None, dataclasses."""
    return _convert(tp, node, path, name)


def _convert(tp: Any, node: yaml.Node, path: Path, dotted: str):
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    leaf = re.sub(r"(\[\d+\])+$", "", dotted.rsplit(".", 1)[-1])  # the key as written, for hints
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):  # a dataclass type, never an instance
        return _build(tp, node, path, dotted)
    if origin is tuple:
        if not isinstance(node, yaml.SequenceNode):
            raise BuildError(f"`{dotted}` must be a list", path, _line(node), f"e.g. {leaf}: [one, two]")
        return tuple(_convert(args[0], item, path, f"{dotted}[{i}]") for i, item in enumerate(node.value))
    if origin is dict:
        if not isinstance(node, yaml.MappingNode):
            raise BuildError(
                f"`{dotted}` must be a mapping",
                path,
                _line(node),
                f"write `name: value` lines indented under `{leaf}:`, or {leaf}: {{name: value}}",
            )
        key_t, val_t = args
        if val_t is Any:
            return safe_yaml.construct(node) or {}
        return {k.value: _convert(val_t, v, path, f"{dotted}.{k.value}") for k, v in node.value}
    if origin in (types.UnionType, typing.Union):
        non_none = [a for a in args if a is not type(None)]
        return _convert(non_none[0], node, path, dotted)
    value = safe_yaml.construct(node)
    if origin is typing.Literal:
        if value not in args:
            choices = ", ".join(map(str, args))
            raise BuildError(
                f"`{dotted}` must be one of {choices}, not {value!r}", path, _line(node), f"e.g. {leaf}: {args[0]}"
            )
        return value
    expected = {bool: "true or false", int: "a whole number", float: "a number", str: "a string"}.get(tp, str(tp))
    hint = {
        bool: f"write `{leaf}: true` or `{leaf}: false`",
        int: f"e.g. {leaf}: 10",
        float: f"e.g. {leaf}: 1.5",
        str: f'quote the value: {leaf}: "..."',
    }.get(tp, "")
    if tp is bool and not isinstance(value, bool):
        raise BuildError(f"`{dotted}` must be {expected}, not {value!r}", path, _line(node), hint)
    if tp is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise BuildError(f"`{dotted}` must be {expected}, not {value!r}", path, _line(node), hint)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise BuildError(f"`{dotted}` must be {expected}, not {value!r}", path, _line(node), hint)
        return float(value)
    if tp is str:
        if isinstance(value, (dict, list)) or value is None:
            raise BuildError(f"`{dotted}` must be {expected}", path, _line(node), hint)
        return str(value)
    return value


def _check_values(config: SiteConfig, node: yaml.Node, path: Path) -> None:
    def fail(key: str, message: str, hint: str = "") -> None:
        target = node
        for part in key.split("."):
            target = _key_node(target, part) if isinstance(target, yaml.MappingNode) else target
        raise BuildError(message, path, _line(target), hint)

    try:
        ZoneInfo(config.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        fail("time_zone", f"unknown time zone `{config.time_zone}`", "use an IANA name such as Asia/Tokyo or UTC")
    if not config.base_url.startswith(("http://", "https://")) or not config.base_url.endswith("/"):
        fail(
            "base_url",
            f"base_url must be an absolute URL ending in '/', got `{config.base_url}`",
            "e.g. https://example.org/blog/",
        )
    for key in ("light_style", "dark_style"):
        style = getattr(config.markup, key)
        if not _pygments_style(style):
            from pygments.styles import STYLE_MAP

            fail(
                f"markup.{key}",
                f"unknown code style `{style}`",
                f"use a Pygments style: {', '.join(sorted(STYLE_MAP))}",
            )
    if config.paginate < 1:
        fail("paginate", "paginate must be at least 1")
    if config.summary_length < 0:
        fail("summary_length", "summary_length must not be negative")
    if config.execution.jobs < 1 or config.execution.gpu_slots < 1:
        fail("execution", "execution.jobs and execution.gpu_slots must be at least 1")
    from execblog.i18n import available_languages  # the theme's string tables, checked here once

    langs = available_languages(config.site_dir)
    if langs and config.language not in langs:
        fail(
            "language",
            f"no UI strings for language `{config.language}`",
            f"add theme/i18n/{config.language}.yaml or use one of: {', '.join(sorted(langs))}",
        )
    plurals: set[str] = set()
    for singular, plural in config.taxonomies.items():
        for name in (singular, plural):
            if not _TAXONOMY_NAME.fullmatch(name):
                fail(
                    f"taxonomies.{singular}",
                    f"taxonomy name `{name}` is not a lower-case URL segment",
                    "use lower-case letters, digits, - and _, e.g. `series: series`",
                )
        if plural in plurals:
            fail(
                f"taxonomies.{singular}",
                f"two taxonomies have the plural `{plural}`",
                "give each taxonomy its own plural name",
            )
        if plural in _RESERVED_FOLDERS | {config.posts_section}:
            fail(
                f"taxonomies.{singular}",
                f"the taxonomy `{plural}` would use the folder /{plural}/ that other pages use",
                f"choose another plural name than {', '.join(sorted(_RESERVED_FOLDERS | {config.posts_section}))}",
            )
        plurals.add(plural)
    _check_readers(config, fail)
    profiles = set(config.profiles) | {"auto"}
    if config.default_profile not in profiles:
        fail("default_profile", f"unknown profile `{config.default_profile}`", "define it under `profiles:`")
    for name, profile in config.profiles.items():
        if profile.models not in ("auto", "offline", "real"):
            fail(f"profiles.{name}.models", f"profiles.{name}.models must be auto, offline or real")
        if profile.standin_size not in ("tiny", "real"):
            fail(f"profiles.{name}.standin_size", f"profiles.{name}.standin_size must be tiny or real")
    for i, name in enumerate(config.execution.provenance_packages):
        if not all(part.isidentifier() for part in name.split(".")):
            raise BuildError(
                f"execution.provenance_packages: `{name}` is not a module name",
                path,
                _line(_key_node(_key_node(node, "execution"), "provenance_packages").value[i]),
                "use import names, e.g. torch, sklearn, PIL",
            )
    for model_id, module in config.bundled_models.items():
        if not all(part.isidentifier() for part in module.split(".")):
            raise BuildError(
                f"bundled_models: `{module}` is not a module name",
                path,
                _line(_key_node(_key_node(node, "bundled_models"), model_id)),
                "give the import name of the package that ships the model",
            )
    _check_standins(config, node, path)


def _pygments_style(name: str) -> bool:
    from pygments.styles import get_style_by_name
    from pygments.util import ClassNotFound

    try:
        get_style_by_name(name)  # what highlighting will use: built-in or a plugin's
    except ClassNotFound:
        return False
    return True


_GISCUS_REPO = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
_GISCUS_MAPPINGS = ("pathname", "url", "title", "og:title")
_GITHUB_REPO = re.compile(r"https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
_BRANCH = re.compile(r"[A-Za-z0-9._/-]+")
_GA_ID = re.compile(r"G-[A-Z0-9]{4,20}")
_DOMAIN = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?(,[a-z0-9]([a-z0-9.-]*[a-z0-9])?)*")


def _check_readers(config: SiteConfig, fail) -> None:
    """Related posts, comments and analytics: values that end up in URLs and scripts are checked by pattern."""
    related = config.related
    if not 0 <= related.threshold <= 100:
        fail("related.threshold", "related.threshold must be between 0 and 100")
    if related.count < 0:
        fail("related.count", "related.count must not be negative", "0 shows no related posts")
    for index in related.indices or ():
        if not index.name or index.name != index.name.lower():
            fail(
                "related.indices",
                f"related index name `{index.name}` must be a lower-case front matter key",
                "e.g. tags, keywords, date, series",
            )
        if not 0 <= index.cardinality_threshold <= 100:
            fail("related.indices", "cardinality_threshold must be between 0 and 100")
    giscus = config.comments.giscus
    if giscus:
        if not _GISCUS_REPO.fullmatch(giscus.repo):
            fail("comments.giscus.repo", f"comments.giscus.repo must be owner/name, got `{giscus.repo}`")
        for key in ("repo_id", "category", "category_id"):
            if not getattr(giscus, key).strip():
                fail(
                    f"comments.giscus.{key}",
                    f"comments.giscus.{key} is empty",
                    "copy the value from the giscus.app configuration page",
                )
        if giscus.mapping not in _GISCUS_MAPPINGS:
            fail("comments.giscus.mapping", f"comments.giscus.mapping must be one of {', '.join(_GISCUS_MAPPINGS)}")
        if giscus.input_position not in ("top", "bottom"):
            fail("comments.giscus.input_position", "comments.giscus.input_position must be top or bottom")
    plausible = config.analytics.plausible
    if plausible:
        if not _DOMAIN.fullmatch(plausible.domain):
            fail(
                "analytics.plausible.domain",
                f"analytics.plausible.domain must be a domain name, got `{plausible.domain}`",
                "e.g. example.github.io",
            )
        if not plausible.src.startswith("https://"):
            fail("analytics.plausible.src", "analytics.plausible.src must be an https:// URL")
    repository = config.repository
    if repository.url and not _GITHUB_REPO.fullmatch(repository.url):
        fail(
            "repository.url",
            f"repository.url must be a GitHub repository's address, got `{repository.url}`",
            "e.g. https://github.com/owner/name (Colab opens notebooks from GitHub)",
        )
    if not _BRANCH.fullmatch(repository.branch) or ".." in repository.branch:
        fail("repository.branch", f"repository.branch `{repository.branch}` is not a branch name", "e.g. main")
    if repository.path and any(part in ("", ".", "..") for part in repository.path.strip("/").split("/")):
        fail(
            "repository.path",
            f"repository.path `{repository.path}` must be a folder inside the repository",
            "e.g. blog, or leave it out when the site is at the repository's root",
        )
    google = config.analytics.google
    if google and not _GA_ID.fullmatch(google.id):
        fail("analytics.google.id", f"analytics.google.id must be a GA4 measurement id (G-XXXXXXX), got `{google.id}`")


def _check_standins(config: SiteConfig, node: yaml.Node, path: Path) -> None:
    """Each recipe's corpus files lie inside the site; each recipe remembers its
    line, so the stand-in builders (which know the kinds) can name it."""
    if not config.standins:
        return
    site = config.site_dir.resolve()
    section = _key_node(node, "standins")
    for model_id, entry in config.standins.items():
        entry_node = _key_node(section, model_id)
        for i, rel in enumerate(entry.corpus):
            file = (site / rel).resolve()
            where = _line(_key_node(entry_node, "corpus").value[i])
            if not file.is_relative_to(site):
                raise BuildError(
                    f"standins.{model_id}.corpus: `{rel}` is outside the site",
                    path,
                    where,
                    "keep corpus files inside the site folder (symlinks that leave it are refused)",
                )
            if not file.is_file():
                raise BuildError(
                    f"standins.{model_id}.corpus: no file `{rel}`",
                    path,
                    where,
                    "give a UTF-8 text file, relative to the site folder",
                )
        config.standins[model_id] = dataclasses.replace(entry, line=_line(entry_node))
