// needs: #searchbox
// The search page: Pagefind's index, loaded on first use.
(function () {
  "use strict";
  var box = document.getElementById("searchbox");
  if (box) setupSearch(box);

  function setupSearch(box) {
    var form = box.querySelector("form");
    var input = document.getElementById("searchInput");
    var list = document.getElementById("searchResults");
    var status = document.getElementById("searchStatus");
    var pagefind = null;
    var seq = 0;
    function load() {
      if (!pagefind) {
        pagefind = import(box.dataset.bundle + "pagefind.js").then(function (pf) {
          return pf.options({ excerptLength: 24 }).then(function () { return pf; });
        });
      }
      return pagefind;
    }
    function esc(s) { var d = document.createElement("div"); d.textContent = s; return d.innerHTML; }
    // A hit in the title gives an excerpt that starts with the title's end,
    // which the result already shows above it: start at the text instead.
    function trimTitle(excerpt, title) {
      var cut = excerpt.indexOf(". ");
      if (cut < 0 || excerpt.length - cut < 24) return excerpt;
      var head = excerpt.slice(0, cut).replace(/<\/?mark>/g, "");
      return head && title.indexOf(head) >= 0 ? excerpt.slice(cut + 2) : excerpt;
    }
    function show(q, items) {
      if (!items.length) {
        list.innerHTML = "";
        status.textContent = box.dataset.noResults.replace("{query}", q);
        status.classList.add("no-results");
        return;
      }
      status.classList.remove("no-results");
      status.textContent = box.dataset.results.replace("{count}", items.length);
      list.innerHTML = items.map(function (d) {
        var title = esc((d.meta && d.meta.title) || d.url);
        var date = d.meta && d.meta.date ? '<p class="result-date">' + esc(d.meta.date) + "</p>" : "";
        return '<li class="search-result"><h2 class="result-title"><a href="' + esc(d.url) + '">' + title + "</a></h2>" +
          date + '<p class="result-excerpt">' + trimTitle(d.excerpt, (d.meta && d.meta.title) || "") + "</p></li>";
      }).join("");
    }
    // The index cuts Japanese text into dictionary words, which can split a
    // compound ("ヒートマップ" -> "ヒート" "マップ") that the query keeps whole.
    // A single CJK word is therefore also looked up cut in two (parts of two
    // or more characters); results are merged by score.
    var CJK = /^[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uff66-\uff9f]{4,16}$/;
    function search(pf, q) {
      var queries = [q];
      if (CJK.test(q)) for (var i = 2; i <= q.length - 2; i++) queries.push(q.slice(0, i) + " " + q.slice(i));
      return Promise.all(queries.map(function (x) { return pf.search(x); })).then(function (all) {
        var best = {};
        all.forEach(function (res, k) {
          res.results.forEach(function (r) {
            // a hit on the query as typed outranks one found only by a cut
            var score = k === 0 ? r.score * 2 : r.score;
            if (!best[r.id] || best[r.id].score < score) best[r.id] = { score: score, data: r.data };
          });
        });
        return Object.keys(best).map(function (id) { return best[id]; }).sort(function (a, b) { return b.score - a.score; });
      });
    }
    function run() {
      var q = input.value.trim();
      var mine = ++seq;
      history.replaceState(null, "", location.pathname + (q ? "?q=" + encodeURIComponent(q) : ""));
      if (!q) { list.innerHTML = ""; status.textContent = ""; status.classList.remove("no-results"); return; }
      load().then(function (pf) { return search(pf, q); }).then(function (results) {
        if (mine !== seq) return null;
        return Promise.all(results.slice(0, 10).map(function (r) { return r.data(); }));
      }).then(function (items) {
        if (items && mine === seq) show(q, items);
      }).catch(function (err) {
        status.textContent = box.dataset.error;
        if (window.console) console.warn(err);
      });
    }
    var timer = null;
    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(run, 120); });
    form.addEventListener("submit", function (ev) { ev.preventDefault(); clearTimeout(timer); run(); });
    var initial = new URLSearchParams(location.search).get("q");
    if (initial) { input.value = initial; run(); }
  }
})();
