// needs: .output-chart
// Charts from notebook outputs (Plotly; Vega and Vega-Lite, e.g. Altair; Bokeh). Each chart's spec is JSON in
// the <script type="application/json"> beside it: data, parsed, never run. Its library comes from this
// site (fingerprinted; `execblog-vendor:` names it for the build), loaded once and only when a chart
// nears the screen; the output's image stays until the chart is drawn. Drawn again when the theme changes.
(function () {
  "use strict";
  var root = document.documentElement;
  var LIBRARIES = {
    plotly: "execblog-vendor:plotly.min.js", vega: "execblog-vendor:vega.js", bokeh: "execblog-vendor:bokeh.min.js",
  };
  var loading = {};
  var charts = [];

  function load(kind) {
    if (!loading[kind]) {
      loading[kind] = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = LIBRARIES[kind];
        script.onload = resolve;
        script.onerror = function () { reject(new Error("could not load " + script.src)); };
        document.head.appendChild(script);
      });
    }
    return loading[kind];
  }

  function dark() { return root.dataset.theme === "dark"; }

  // Plotly: the figure's own template, on the page's background and in its text colour.
  function plotlyLayout(layout) {
    var style = getComputedStyle(document.body);
    var grid = dark() ? "rgba(255,255,255,.14)" : undefined;
    var out = Object.assign({}, layout, { autosize: true, paper_bgcolor: "rgba(0,0,0,0)" });
    delete out.width; // the column's width, on a phone too
    out.font = Object.assign({}, layout.font, { color: style.color });
    if (dark()) {
      var css = getComputedStyle(root);
      var entry = css.getPropertyValue("--entry").trim(), active = css.getPropertyValue("--tertiary").trim();
      out.plot_bgcolor = "rgba(0,0,0,0)";
      // buttons and sliders: Plotly's are light grey with the text colour, unreadable on dark text colour
      ["updatemenus", "sliders"].forEach(function (key) {
        if (Array.isArray(layout[key])) out[key] = layout[key].map(function (menu) {
          return Object.assign({}, menu, { bgcolor: entry, activecolor: active, bordercolor: grid, font: Object.assign({}, menu.font, { color: style.color }) });
        });
      });
      Object.keys(layout).concat(["xaxis", "yaxis"]).forEach(function (key) {
        if (/^[xy]axis\d*$/.test(key)) out[key] = Object.assign({}, layout[key], { gridcolor: grid, zerolinecolor: grid, linecolor: grid });
      });
    }
    return out;
  }

  function drawPlotly(chart) {
    var spec = chart.spec;
    var config = { responsive: true, displaylogo: false, showLink: false, showSendToCloud: false, showEditInChartStudio: false };
    return window.Plotly.react(chart.view, spec.data, plotlyLayout(spec.layout || {}), config).then(function () {
      if (spec.frames) return window.Plotly.addFrames(chart.view, spec.frames);
    });
  }

  // Vega: expressions interpreted (never compiled to code); data only from the spec itself.
  function drawVega(chart) {
    var vega = window.vega;
    var loader = vega.loader();
    loader.sanitize = function (uri) { return Promise.reject(new Error("not loaded (outputs carry their data): " + uri)); };
    if (chart.result) chart.result.finalize();
    var options = {
      mode: chart.el.dataset.mode, renderer: "svg", actions: false, ast: true, expr: vega.expressionInterpreter,
      loader: loader, theme: dark() ? "dark" : undefined, config: { background: null },
    };
    return window.vegaEmbed(chart.view, chart.spec, options).then(function (result) { chart.result = result; });
  }

  // Bokeh: the document as json_item gives it (read from the output, never run), in the page's colours when dark.
  var BOKEH_DARK = {
    Figure: { background_fill_color: "transparent", border_fill_color: "transparent", outline_line_color: "#555" },
    Title: { text_color: "TEXT" },
    Grid: { grid_line_color: "rgba(255,255,255,.14)" },
    Legend: { background_fill_color: "#2e2e33", label_text_color: "TEXT", border_line_color: "#555" },
  };
  var BOKEH_AXIS = {
    axis_label_text_color: "TEXT", major_label_text_color: "TEXT", axis_line_color: "TEXT",
    major_tick_line_color: "TEXT", minor_tick_line_color: "TEXT",
  };

  function bokehDoc(doc) {
    if (!dark()) return doc;
    var text = getComputedStyle(document.body).color;
    var copy = JSON.parse(JSON.stringify(doc));
    (function walk(value) {
      if (Array.isArray(value)) { value.forEach(walk); return; }
      if (!value || typeof value !== "object") return;
      var colours = value.type === "object" && (BOKEH_DARK[value.name] || (/Axis$/.test(value.name) ? BOKEH_AXIS : null));
      if (colours) {
        value.attributes = value.attributes || {};
        Object.keys(colours).forEach(function (key) { value.attributes[key] = colours[key] === "TEXT" ? text : colours[key]; });
      }
      Object.keys(value).forEach(function (key) { walk(value[key]); });
    })(copy);
    return copy;
  }

  function drawBokeh(chart) {
    if (chart.result) chart.result.clear(); // the views of the last drawing
    chart.view.replaceChildren();
    var item = { doc: bokehDoc(chart.spec.doc), root_id: chart.spec.root_id };
    return window.Bokeh.embed.embed_item(item, chart.view).then(function (views) { chart.result = views; });
  }

  var DRAW = { plotly: drawPlotly, vega: drawVega, bokeh: drawBokeh };

  function draw(chart) {
    return load(chart.kind).then(function () { return DRAW[chart.kind](chart); }).then(function () {
      chart.el.classList.add("chart-drawn");
    }).catch(function (err) {
      chart.el.classList.remove("chart-drawn"); // the image (or the note) stays
      console.warn("chart not drawn:", err);
    });
  }

  document.querySelectorAll(".output-chart").forEach(function (el) {
    var kind = el.classList.contains("output-plotly") ? "plotly" : el.classList.contains("output-bokeh") ? "bokeh" : "vega";
    var spec;
    try { spec = JSON.parse(el.querySelector("script.chart-spec").textContent); } catch (e) { return; }
    var view = document.createElement("div");
    view.className = "chart-view";
    el.appendChild(view);
    charts.push({ el: el, kind: kind, spec: spec, view: view, seen: false });
  });
  if (!charts.length) return;

  var observer = new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      var chart = charts.filter(function (c) { return c.el === entry.target; })[0];
      if (entry.isIntersecting && chart && !chart.seen) {
        chart.seen = true;
        observer.unobserve(chart.el);
        draw(chart);
      }
    });
  }, { rootMargin: "400px 0px" });
  charts.forEach(function (chart) { observer.observe(chart.el); });

  new MutationObserver(function () {
    charts.forEach(function (chart) { if (chart.seen) draw(chart); });
  }).observe(root, { attributes: true, attributeFilter: ["data-theme"] });
})();
