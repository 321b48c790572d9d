// execblog theme script, on every page: the theme toggle and the back-to-top
// link. No dependencies; deferred. The theme itself is set before first paint
// by the inline script in <head>. Scripts beside this one whose first line is
// `// needs: SELECTORS` go only on pages where those may match.
(function () {
  "use strict";
  var root = document.documentElement;

  var toggle = document.getElementById("theme-toggle");
  if (toggle) {
    var show = function (theme) {
      root.dataset.theme = theme;
      toggle.setAttribute("aria-pressed", theme === "dark"); // "true" / "false"
    };
    toggle.setAttribute("aria-pressed", root.dataset.theme === "dark");
    toggle.onclick = function () {
      var next = root.dataset.theme === "dark" ? "light" : "dark";
      show(next);
      try { localStorage.setItem("pref-theme", next); } catch (e) { /* private mode: the choice lasts for this page */ }
    };
    // Follow the system while the reader has not chosen.
    matchMedia("(prefers-color-scheme: dark)").addEventListener("change", function (ev) {
      var choice = null;
      try { choice = localStorage.getItem("pref-theme"); } catch (e) { /* private mode: no choice kept */ }
      if (choice !== "dark" && choice !== "light") show(ev.matches ? "dark" : "light");
    });
  }

  var top = document.getElementById("top-link");
  if (top) {
    var onScroll = function () { top.classList.toggle("visible", scrollY > 800); };
    addEventListener("scroll", onScroll, { passive: true });
    onScroll();
  }
})();
