"""ipywidgets shown from the widget state a notebook saved, as static HTML.

    html = render_widget(model_id, widget_state(nb.metadata), clean, labels)

Jupyter saves the state of every live widget in the notebook metadata
(`widgets` -> `application/vnd.jupyter.widget-state+json` -> `state`: model id
-> {model_name, state}); a `application/vnd.jupyter.widget-view+json` output
names the model it shows. Rather than load the widget manager (about 2 MB of
JavaScript that fetches widget code from a CDN), the common static widgets are
drawn here, server-side, from that state, with no script and no request:

* IntProgress / FloatProgress: a <progress> with its description and value
  (tqdm.notebook's bar is an HBox of an HTML label, a FloatProgress and an
  HTML count, so it shows its final state: "100%", "10/10 [...]");
* HTML / HTMLMath: the value through the site's allow-list sanitizer (`clean`);
  Label: its value as text (Jupyter shows a Label's value as text);
* Box / HBox / VBox / GridBox: their children, in a row or a column;
* anything else (sliders, buttons, Output...): a note that the interactive
  widget is not shown, with its type and description.

A model missing from the state (the notebook was saved without it) renders as
nothing, as Jupyter shows nothing useful for it either. Every string from the
state is escaped or sanitized; reference cycles and deep nesting stop.

CSS classes (stable; the theme styles them): div.output-widget (the output),
div.widget-box (+ .widget-hbox or .widget-vbox), div.widget-progress (+
.widget-progress-success / -danger / -warning / -info from bar_style),
span.widget-description, div.widget-html, span.widget-label,
p.widget-unsupported.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from typing import Any

STATE_MIMETYPE = "application/vnd.jupyter.widget-state+json"
_REF = "IPY_MODEL_"
_MAX_DEPTH = 20
_BOXES = {
    "BoxModel": "widget-vbox",
    "VBoxModel": "widget-vbox",
    "HBoxModel": "widget-hbox",
    "GridBoxModel": "widget-hbox",
}
_BAR_STYLES = ("success", "danger", "warning", "info")

Clean = Callable[[str], str]


def widget_state(metadata: Any) -> Mapping[str, Any]:
    """Model id -> saved model ({model_name, state}) from a notebook's metadata; empty when none was saved."""
    widgets = metadata.get("widgets") if isinstance(metadata, Mapping) else None
    saved = widgets.get(STATE_MIMETYPE) if isinstance(widgets, Mapping) else None
    state = saved.get("state") if isinstance(saved, Mapping) else None
    return state if isinstance(state, Mapping) else {}


def render_widget(model_id: Any, models: Mapping[str, Any], clean: Clean, not_shown: str) -> str:
    """The HTML of the widget `model_id` from the saved `models` ("" when it was not saved).
    `clean` sanitizes an HTML widget's value; `not_shown` is the note for other widgets,
    with `{name}` for the widget's type and description."""
    inner = _Renderer(models, clean, not_shown).render(str(model_id), 0, frozenset())
    return f'<div class="output-widget">{inner}</div>' if inner else ""


class _Renderer:
    def __init__(self, models: Mapping[str, Any], clean: Clean, not_shown: str):
        self.models, self.clean, self.not_shown = models, clean, not_shown

    def render(self, model_id: str, depth: int, seen: frozenset[str]) -> str:
        model_id = model_id.removeprefix(_REF)
        model = self.models.get(model_id)
        if not isinstance(model, Mapping) or model_id in seen or depth > _MAX_DEPTH:
            return ""
        name = str(model.get("model_name") or "")
        saved_state = model.get("state")
        state: Mapping[str, Any] = saved_state if isinstance(saved_state, Mapping) else {}
        if state.get("layout") and self._hidden(state):
            return ""
        if name in _BOXES:
            saved_children = state.get("children")
            children = saved_children if isinstance(saved_children, list) else []
            inner = "".join(self.render(str(c), depth + 1, seen | {model_id}) for c in children)
            return f'<div class="widget-box {_BOXES[name]}">{inner}</div>'
        description = _description(state)
        if name in ("IntProgressModel", "FloatProgressModel"):
            return _progress(state, description)
        if name in ("HTMLModel", "HTMLMathModel"):
            return f'<div class="widget-html">{description}{self.clean(str(state.get("value") or ""))}</div>'
        if name == "LabelModel":
            return f'<span class="widget-label">{description}{html.escape(str(state.get("value") or ""))}</span>'
        kind = name.removesuffix("Model") or "widget"
        label = f'{kind} "{state["description"]}"' if state.get("description") else kind
        return f'<p class="widget-unsupported">{html.escape(self.not_shown.format(name=label))}</p>'

    def _hidden(self, state: Mapping[str, Any]) -> bool:
        """tqdm hides a bar it was told to leave off (`leave=False`) with layout.visibility."""
        layout = self.models.get(str(state.get("layout")).removeprefix(_REF))
        layout_state = layout.get("state") if isinstance(layout, Mapping) else None
        return isinstance(layout_state, Mapping) and (
            layout_state.get("visibility") == "hidden" or layout_state.get("display") == "none"
        )


def _description(state: Mapping[str, Any]) -> str:
    text = state.get("description")
    return f'<span class="widget-description">{html.escape(str(text))}</span>' if text else ""


def _number(value: Any, default: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:  # NaN
        return default
    return float(value)


def _progress(state: Mapping[str, Any], description: str) -> str:
    low, high = _number(state.get("min"), 0.0), _number(state.get("max"), 100.0)
    value = min(max(_number(state.get("value"), low), low), high)
    span = high - low
    percent = round(100 * (value - low) / span) if span > 0 else 100
    style = str(state.get("bar_style") or "")
    extra = f" widget-progress-{style}" if style in _BAR_STYLES else ""
    name = str(state.get("description") or "") or f"{percent}%"
    # <progress> counts from 0: shift min to 0 so a bar from 5 to 15 at 10 is half full
    return (
        f'<div class="widget-progress{extra}">{description}'
        f'<progress max="{_fmt(span if span > 0 else 1)}" value="{_fmt(value - low if span > 0 else 1)}" '
        f'aria-label="{html.escape(name)}">{percent}%</progress></div>'
    )


def _fmt(number: float) -> str:
    return str(int(number)) if number == int(number) else repr(number)
