// execblog theme script: theme toggle, code copy buttons, heading anchors,
// back-to-top link and the search page. No dependencies; deferred.
(function () {
  "use strict";
  var root = document.documentElement;

  var toggle = document.getElementById("theme-toggle");
  if (toggle) {
    toggle.addEventListener("click", function () {
      var next = root.dataset.theme === "dark" ? "light" : "dark";
      root.dataset.theme = next;
      try { localStorage.setItem("pref-theme", next); } catch (e) { /* private mode: choice lasts for this page */ }
    });
  }
  // Follow the system while the reader has not chosen.
  var media = matchMedia("(prefers-color-scheme: dark)");
  media.addEventListener("change", function (ev) {
    var stored = null;
    try { stored = localStorage.getItem("pref-theme"); } catch (e) { /* ignore */ }
    if (stored !== "dark" && stored !== "light") root.dataset.theme = ev.matches ? "dark" : "light";
  });

  var strings = document.body.dataset;
  document.querySelectorAll(".post-content .highlight").forEach(function (block) {
    var code = block.querySelector("code");
    if (!code) return;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "copy-code";
    button.textContent = strings.copy || "copy";
    button.addEventListener("click", function () {
      var done = function () {
        button.textContent = strings.copied || "copied!";
        setTimeout(function () { button.textContent = strings.copy || "copy"; }, 2000);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(code.innerText).then(done);
      } else {
        var range = document.createRange();
        range.selectNodeContents(code);
        var sel = getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
        try { document.execCommand("copy"); done(); } finally { sel.removeAllRanges(); }
      }
    });
    block.appendChild(button);
  });

  document.querySelectorAll(".post-content :is(h1,h2,h3,h4,h5,h6)[id]").forEach(function (h) {
    var a = document.createElement("a");
    a.className = "anchor";
    a.href = "#" + h.id;
    a.setAttribute("aria-label", "#" + h.textContent);
    a.textContent = "#";
    h.appendChild(a);
  });

  var top = document.getElementById("top-link");
  if (top) {
    var onScroll = function () { top.classList.toggle("visible", scrollY > 800); };
    addEventListener("scroll", onScroll, { passive: true });
    onScroll();
  }

  var box = document.getElementById("searchbox");
  if (box) setupSearch(box);

  function setupSearch(box) {
    var input = document.getElementById("searchInput");
    var list = document.getElementById("searchResults");
    var status = document.getElementById("searchStatus");
    var pagefind = null;
    var seq = 0;
    function load() {
      if (!pagefind) {
        pagefind = import(box.dataset.bundle + "pagefind.js").then(function (pf) {
          return pf.options({ excerptLength: 30 }).then(function () { return pf; });
        });
      }
      return pagefind;
    }
    function esc(s) { var d = document.createElement("div"); d.textContent = s; return d.innerHTML; }
    function run() {
      var q = input.value.trim();
      var mine = ++seq;
      if (!q) { list.innerHTML = ""; status.textContent = ""; history.replaceState(null, "", location.pathname); return; }
      history.replaceState(null, "", location.pathname + "?q=" + encodeURIComponent(q));
      load().then(function (pf) { return pf.search(q); }).then(function (res) {
        if (mine !== seq) return null;
        return Promise.all(res.results.slice(0, 10).map(function (r) { return r.data(); }));
      }).then(function (items) {
        if (!items || mine !== seq) return;
        if (!items.length) { list.innerHTML = ""; status.textContent = box.dataset.noResults; return; }
        status.textContent = "";
        list.innerHTML = items.map(function (d) {
          var date = d.meta && d.meta.date ? '<div class="result-date">' + esc(d.meta.date) + "</div>" : "";
          return '<li><div class="result-title">' + esc(d.meta.title || d.url) + "</div>" + date +
            '<p class="result-excerpt">' + d.excerpt + '</p><a class="entry-link" aria-label="' + esc(d.meta.title || d.url) +
            '" href="' + esc(d.url) + '"></a></li>';
        }).join("");
      }).catch(function (err) { status.textContent = String(err); });
    }
    var timer = null;
    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(run, 150); });
    var initial = new URLSearchParams(location.search).get("q");
    if (initial) { input.value = initial; run(); }
  }
})();
