"""Allow-list sanitizers: the one place where data becomes markup.

Every point where text the build does not control turns into markup goes
through here, unless the site sets `markup.unsafe_html` (then the author's own
raw HTML is kept as written):

    clean_html(text)          notebook HTML (and, with unsafe_html, Markdown
                              output) -> HTML + MathML allow-list, via nh3
    mathml(element)           latex2mathml's element tree -> MathML markup:
                              MathML elements and attributes only, text escaped
    clean_svg(data)           an SVG file -> SVG elements and attributes only:
                              no script, no foreignObject, no on*, no animation
    heading_attribute_allowed a heading's `{key=value}` attribute: id, class, data-*
    safe_url(url)             relative, #fragment, http(s) or mailto (and raster
                              data: images where asked); never javascript: & co.

Nothing is escaped by a deny-list: what is not named here is dropped, and an
element that is dropped takes its content with it (a `<script>` leaves no text).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from collections.abc import Set as AbstractSet

import nh3

# --- URLs ---------------------------------------------------------------------------------------
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
# Browsers drop these before reading the scheme: "java\tscript:" is javascript:.
_URL_IGNORED = re.compile(r"[\x00-\x20\x7f]")
_SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
_RASTER_DATA = re.compile(r"^data:image/(?:png|jpeg|gif|webp)[;,]", re.I)


def safe_url(url: str, *, image: bool = False) -> bool:
    """True for a URL that cannot run script: relative, a fragment, http(s),
    mailto, and with `image` a raster `data:` image."""
    bare = _URL_IGNORED.sub("", url)
    match = _SCHEME.match(bare)
    if not match:
        return True
    if match.group(1).lower() in _SAFE_SCHEMES:
        return True
    return image and bool(_RASTER_DATA.match(bare))


# --- headings -----------------------------------------------------------------------------------
def heading_attribute_allowed(name: str) -> bool:
    """Heading attribute blocks (`## Title {#id .class data-x=1}`) may set id,
    class and data-*; anything else (on*, autofocus, style, href) is dropped."""
    name = name.lower()
    return name in ("id", "class") or (name.startswith("data-") and len(name) > 5)


# --- MathML ----------------------------------------------------------------------------------------
MATHML_NS = "http://www.w3.org/1998/Math/MathML"
_MATHML_PRESENTATION = frozenset(
    {
        "accent",
        "accentunder",
        "align",
        "bevelled",
        "close",
        "columnalign",
        "columnlines",
        "columnspacing",
        "columnspan",
        "denomalign",
        "depth",
        "dir",
        "displaystyle",
        "fence",
        "form",
        "frame",
        "framespacing",
        "height",
        "largeop",
        "linebreak",
        "linethickness",
        "lspace",
        "mathbackground",
        "mathcolor",
        "mathsize",
        "mathvariant",
        "maxsize",
        "minsize",
        "movablelimits",
        "notation",
        "numalign",
        "open",
        "rowalign",
        "rowlines",
        "rowspacing",
        "rowspan",
        "rspace",
        "scriptlevel",
        "separator",
        "separators",
        "stretchy",
        "symmetric",
        "voffset",
        "width",
        "equalrows",
        "equalcolumns",
    }
)
MATHML_ELEMENTS = frozenset(
    {
        "math",
        "mrow",
        "mi",
        "mn",
        "mo",
        "ms",
        "mtext",
        "mspace",
        "msub",
        "msup",
        "msubsup",
        "munder",
        "mover",
        "munderover",
        "mfrac",
        "msqrt",
        "mroot",
        "mstyle",
        "mpadded",
        "mphantom",
        "menclose",
        "merror",
        "mtable",
        "mtr",
        "mtd",
        "mlabeledtr",
        "mmultiscripts",
        "mprescripts",
        "none",
        "semantics",
        "annotation",
    }
)
# href is checked by safe_url; xmlns and display only make sense on <math>.
_MATHML_ATTRIBUTES = {tag: _MATHML_PRESENTATION | {"href", "class"} for tag in MATHML_ELEMENTS}
_MATHML_ATTRIBUTES["math"] = _MATHML_ATTRIBUTES["math"] | {"xmlns", "display"}
_MATHML_ATTRIBUTES["annotation"] = _MATHML_ATTRIBUTES["annotation"] | {"encoding"}


def mathml(element) -> str:
    """latex2mathml's element tree as MathML markup, by allow-list.

    latex2mathml writes its characters as numeric references (`&#x0002B;`) in
    the text and unescapes its own serialization, so `\\text{<script>}`
    came out as a live element; here text is escaped, numeric references kept,
    so legitimate formulas give the same bytes as before."""
    return _serialize(element, _MATHML_ATTRIBUTES, lambda tag: tag, {})


# --- HTML (notebook outputs) -------------------------------------------------------------------------
def _html_cleaner() -> nh3.Cleaner:
    attributes = copy.deepcopy(nh3.ALLOWED_ATTRIBUTES)
    attributes.setdefault("table", set()).update({"class", "border"})  # pandas' dataframe tables
    attributes.setdefault("*", set()).update({"title", "lang", "dir"})
    for tag, names in _MATHML_ATTRIBUTES.items():
        attributes.setdefault(tag, set()).update(names - {"href"})  # nh3 checks URLs only on its own list
    return nh3.Cleaner(
        tags=set(nh3.ALLOWED_TAGS) | {"tfoot"} | MATHML_ELEMENTS,
        clean_content_tags={"script", "style"},
        attributes=attributes,
    )


_HTML_CLEANER = _html_cleaner()


def clean_html(text: str) -> str:
    """HTML from a notebook output: ammonia's HTML allow-list (plus pandas'
    table attributes) and MathML; no script, style, event handler or script URL."""
    return _HTML_CLEANER.clean(text)


# --- SVG -----------------------------------------------------------------------------------------------
SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"
EMPTY_SVG = f'<svg xmlns="{SVG_NS}"/>\n'.encode()
_FILTER_PRIMITIVES = frozenset(
    {
        "feBlend",
        "feColorMatrix",
        "feComponentTransfer",
        "feComposite",
        "feConvolveMatrix",
        "feDiffuseLighting",
        "feDisplacementMap",
        "feDistantLight",
        "feDropShadow",
        "feFlood",
        "feFuncA",
        "feFuncB",
        "feFuncG",
        "feFuncR",
        "feGaussianBlur",
        "feImage",
        "feMerge",
        "feMergeNode",
        "feMorphology",
        "feOffset",
        "fePointLight",
        "feSpecularLighting",
        "feSpotLight",
        "feTile",
        "feTurbulence",
    }
)
# No script, foreignObject (hosts HTML), animate/set (can rewrite an href to
# javascript:), iframe-like or external-document elements.
SVG_ELEMENTS = (
    frozenset(
        {
            "svg",
            "g",
            "defs",
            "symbol",
            "use",
            "path",
            "rect",
            "circle",
            "ellipse",
            "line",
            "polyline",
            "polygon",
            "text",
            "tspan",
            "textPath",
            "title",
            "desc",
            "clipPath",
            "mask",
            "pattern",
            "marker",
            "linearGradient",
            "radialGradient",
            "stop",
            "image",
            "a",
            "style",
            "filter",
            "switch",
            "view",
        }
    )
    | _FILTER_PRIMITIVES
)
_SVG_ATTRIBUTES = frozenset(
    {
        "id",
        "class",
        "style",
        "transform",
        "d",
        "x",
        "y",
        "x1",
        "y1",
        "x2",
        "y2",
        "cx",
        "cy",
        "r",
        "rx",
        "ry",
        "fx",
        "fy",
        "fr",
        "width",
        "height",
        "viewBox",
        "preserveAspectRatio",
        "points",
        "pathLength",
        "version",
        "fill",
        "fill-opacity",
        "fill-rule",
        "stroke",
        "stroke-width",
        "stroke-opacity",
        "stroke-linecap",
        "stroke-linejoin",
        "stroke-miterlimit",
        "stroke-dasharray",
        "stroke-dashoffset",
        "opacity",
        "clip-path",
        "clip-rule",
        "clipPathUnits",
        "mask",
        "maskUnits",
        "maskContentUnits",
        "patternUnits",
        "patternContentUnits",
        "patternTransform",
        "gradientUnits",
        "gradientTransform",
        "spreadMethod",
        "offset",
        "stop-color",
        "stop-opacity",
        "font-family",
        "font-size",
        "font-style",
        "font-weight",
        "font-variant",
        "font-stretch",
        "text-anchor",
        "dominant-baseline",
        "alignment-baseline",
        "baseline-shift",
        "letter-spacing",
        "word-spacing",
        "text-decoration",
        "writing-mode",
        "dx",
        "dy",
        "rotate",
        "textLength",
        "lengthAdjust",
        "startOffset",
        "method",
        "spacing",
        "marker-start",
        "marker-mid",
        "marker-end",
        "markerWidth",
        "markerHeight",
        "markerUnits",
        "refX",
        "refY",
        "orient",
        "display",
        "visibility",
        "overflow",
        "color",
        "filter",
        "filterUnits",
        "primitiveUnits",
        "in",
        "in2",
        "result",
        "stdDeviation",
        "mode",
        "operator",
        "k1",
        "k2",
        "k3",
        "k4",
        "values",
        "type",
        "tableValues",
        "slope",
        "intercept",
        "amplitude",
        "exponent",
        "flood-color",
        "flood-opacity",
        "lighting-color",
        "baseFrequency",
        "numOctaves",
        "seed",
        "stitchTiles",
        "scale",
        "xChannelSelector",
        "yChannelSelector",
        "radius",
        "azimuth",
        "elevation",
        "kernelMatrix",
        "order",
        "divisor",
        "bias",
        "targetX",
        "targetY",
        "edgeMode",
        "preserveAlpha",
        "surfaceScale",
        "diffuseConstant",
        "specularConstant",
        "specularExponent",
        "pointsAtX",
        "pointsAtY",
        "pointsAtZ",
        "limitingConeAngle",
        "z",
        "vector-effect",
        "shape-rendering",
        "image-rendering",
        "text-rendering",
        "color-interpolation",
        "color-interpolation-filters",
        "paint-order",
        "mix-blend-mode",
        "isolation",
        "systemLanguage",
        "media",
        "target",
        "role",
        "aria-label",
        "aria-hidden",
        "href",
        "xlink:href",
        "xml:space",
        "xml:lang",
        "lang",
    }
)
_SVG_ATTRIBUTE_MAP = {tag: _SVG_ATTRIBUTES for tag in SVG_ELEMENTS}
_SVG_NAMESPACED = {f"{{{XLINK_NS}}}": "xlink:", f"{{{XML_NS}}}": "xml:"}


def _svg_tag(tag: str) -> str | None:
    prefix = f"{{{SVG_NS}}}"
    return tag[len(prefix) :] if tag.startswith(prefix) else None


def clean_svg(data: bytes) -> bytes:
    """An SVG image file by allow-list (it runs as a document when its URL is
    opened). Entities are not expanded, no DTD or network is read; a file that
    is not well-formed SVG becomes an empty image."""
    from lxml import etree

    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True, remove_pis=True, huge_tree=False
    )
    try:
        root = etree.fromstring(data, parser)
    except (etree.XMLSyntaxError, ValueError):
        return EMPTY_SVG
    if not isinstance(root.tag, str) or _svg_tag(root.tag) != "svg":
        return EMPTY_SVG
    declarations = {"xmlns": SVG_NS, "xmlns:xlink": XLINK_NS}
    return (_serialize(root, _SVG_ATTRIBUTE_MAP, _svg_tag, declarations) + "\n").encode("utf-8")


# --- the serializer both XML vocabularies share ------------------------------------------------------
_BARE_AMP = re.compile(r"&(?!#(?:[0-9]+|[xX][0-9a-fA-F]+);)")


def _escape_text(text: str) -> str:
    # Numeric character references stay (latex2mathml writes symbols so): in
    # text they can only ever stand for text.
    return _BARE_AMP.sub("&amp;", text).replace("<", "&lt;").replace(">", "&gt;")


def _escape_attribute(value: str) -> str:
    # Every `&` escaped: a reference in a URL would hide its scheme from safe_url.
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\n", "&#10;")
    )


def _attribute_name(name: str) -> str:
    for uri, prefix in _SVG_NAMESPACED.items():
        if name.startswith(uri):
            return prefix + name[len(uri) :]
    return name


def _serialize(element, allowed: Mapping[str, AbstractSet[str]], local, declarations: dict[str, str]) -> str:
    """`element` as markup keeping only allowed elements (with their content)
    and attributes; `local` maps a tag to its allow-list name (None: foreign)."""
    out: list[str] = []

    def write(elem, root: bool) -> None:
        tag = local(elem.tag) if isinstance(elem.tag, str) else None
        if tag is None or tag not in allowed:
            return  # dropped with its content; its tail is written by the parent
        names = allowed[tag]
        attrs = dict(declarations) if root else {}
        for raw, value in elem.attrib.items():
            name = _attribute_name(raw)
            if name not in names:
                continue
            if name in ("href", "xlink:href") and not safe_url(value, image=tag in ("image", "feImage")):
                continue
            attrs[name] = value
        opening = tag + "".join(f' {k}="{_escape_attribute(str(v))}"' for k, v in attrs.items())
        children = [c for c in elem]
        if not elem.text and not children:
            out.append(f"<{opening} />")
            return
        out.append(f"<{opening}>")
        if elem.text:
            out.append(_escape_text(elem.text))
        for child in children:
            write(child, False)
            if child.tail:
                out.append(_escape_text(child.tail))
        out.append(f"</{tag}>")

    write(element, True)
    return "".join(out)
