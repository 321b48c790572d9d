// needs: #searchbox
// The search page over the site's own index (build/output/search_index.py): the manifest,
// then only the shards of the query's terms and the documents of the results shown.
(function () {
  "use strict";
  // --- terms: the rules of build/pages/search.py (tests/test_search_js.py compares both) ---
  var CJK = "\u3005-\u3007\u3041-\u3096\u309d-\u309f\u30a1-\u30fa\u30fc-\u30ff\u31f0-\u31ff" +
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\u{20000}-\u{3347f}";
  var TOKEN = new RegExp("([" + CJK + "]+)|(?:(?![" + CJK + "])[\\p{L}\\p{N}])+", "gu");
  var IS_CJK = new RegExp("^[" + CJK + "]", "u");

  function normalize(s) { return s.normalize("NFKC").toLowerCase().replace(/ς/g, "σ").replace(/i\u0307/g, "i"); }

  // [term, position, start, end] of normalised text (start/end: UTF-16 offsets); a CJK run
  // gives one bigram per character (its last character alone), one position each.
  function tokens(s, base) {
    var out = [], pos = base || 0, m;
    TOKEN.lastIndex = 0;
    while ((m = TOKEN.exec(s))) {
      if (m[1] === undefined) { out.push([m[0], pos++, m.index, m.index + m[0].length]); continue; }
      var chars = Array.from(m[0]), off = m.index;
      for (var i = 0; i < chars.length; i++) {
        out.push([chars[i] + (chars[i + 1] || ""), pos + i, off, off + chars[i].length]);
        off += chars[i].length;
      }
      pos += chars.length;
    }
    return out;
  }

  function termKey(term) { return IS_CJK.test(term) ? Array.from(term)[0] : Array.from(term).slice(0, 2).join(""); }

  // FNV-1a (32 bit) of the key's UTF-8
  function slotOf(term, slots) {
    var bytes = new TextEncoder().encode(termKey(term)), h = 0x811c9dc5;
    for (var i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193) >>> 0;
    return h % slots;
  }

  // The query as units, each matched as a whole: a word (the last one, still being typed,
  // also as a prefix) or a CJK run (its characters contiguous). `span`: positions it takes.
  function parseQuery(q) {
    var norm = normalize(q), units = [], m;
    TOKEN.lastIndex = 0;
    while ((m = TOKEN.exec(norm))) {
      if (m[1] === undefined) units.push({ word: m[0], span: 1, prefix: false });
      else { var chars = Array.from(m[0]); units.push({ chars: chars, span: chars.length }); }
    }
    var last = units[units.length - 1];
    if (last && last.word && Array.from(last.word).length >= 2 && !/\s$/.test(q)) last.prefix = true;
    return units;
  }

  // The terms whose postings a unit needs (their shards are fetched).
  function unitTerms(u) {
    if (u.word) return [u.word];
    if (u.chars.length === 1) return [u.chars[0]];
    return u.chars.slice(0, -1).map(function (c, i) { return c + u.chars[i + 1]; });
  }

  // Where a unit occurs: Map doc -> sorted start positions. `index.get(term)` gives
  // Map doc -> positions; `index.starting(prefix)` the terms starting with it.
  function occurrences(u, index) {
    var found = new Map();
    function add(postings) {
      if (!postings) return;
      postings.forEach(function (ps, doc) { found.set(doc, (found.get(doc) || []).concat(ps)); });
    }
    if (u.word) {
      if (u.prefix) index.starting(u.word).forEach(function (t) { add(index.get(t)); });
      else add(index.get(u.word));
    } else if (u.chars.length === 1) {
      index.starting(u.chars[0]).forEach(function (t) { add(index.get(t)); });
    } else {
      var grams = unitTerms(u).map(function (t) { return index.get(t); });
      if (grams.every(Boolean)) {
        grams[0].forEach(function (ps, doc) {
          var later = grams.slice(1).map(function (g) { return g.get(doc) && new Set(g.get(doc)); });
          if (!later.every(Boolean)) return;
          var hits = ps.filter(function (p) { return later.every(function (s, i) { return s.has(p + i + 1); }); });
          if (hits.length) found.set(doc, hits);
        });
      }
    }
    found.forEach(function (ps) { ps.sort(function (a, b) { return a - b; }); });
    return found;
  }

  // Do the units follow each other somewhere in this document?
  function phraseAt(occ, doc, units) {
    return occ[0].get(doc).some(function (p) {
      for (var i = 1, at = p + units[0].span; i < units.length; at += units[i].span, i++) {
        if (occ[i].get(doc).indexOf(at) < 0) return false;
      }
      return true;
    });
  }

  // BM25 over the documents that hold every unit, a title (tag) hit weighing more; exact
  // phrases first. `info`: {count, length[doc], average, fields: [tags base, body base]}.
  function rank(units, index, info) {
    if (!units.length) return [];
    var occ = units.map(function (u) { return occurrences(u, index); });
    var k1 = 1.2, b = 0.75, tagsBase = info.fields[0], bodyBase = info.fields[1];
    var out = [];
    occ[0].forEach(function (_ps, doc) {
      if (!occ.every(function (o) { return o.has(doc); })) return;
      var score = 0, dl = info.length[doc] || 0;
      occ.forEach(function (o) {
        var tf = 0;
        o.get(doc).forEach(function (p) { tf += p < tagsBase ? 5 : p < bodyBase ? 3 : 1; });
        var idf = Math.log(1 + (info.count - o.size + 0.5) / (o.size + 0.5));
        score += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / (info.average || 1)));
      });
      out.push({ doc: doc, score: score, phrase: units.length === 1 || phraseAt(occ, doc, units) });
    });
    return out.sort(function (x, y) { return (y.phrase - x.phrase) || (y.score - x.score) || (x.doc - y.doc); });
  }

  // `template` with `slot` replaced by `value` as written (String.replace would read `$&` in it)
  function fill(template, slot, value) {
    return template.split(slot).join(value);
  }

  function esc(s) {
    return s.replace(/[&<>"']/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; });
  }

  // A character with the marks that normalisation joins to it (か + ゙, ﾃ + ﾞ, e + ́).
  var SEGMENT = /[\s\S][\p{M}\uff9e\uff9f]*/gu;

  // The text around the first hit, escaped, the hits in <mark>. Matching runs on the text
  // normalised segment by segment (SEGMENT), mapped back to the text as written: a hit
  // starts where its first segment starts and ends where its last one ends.
  function excerpt(text, units, width) {
    width = width || 160;
    var norm = "", starts = [], ends = [], at = 0;
    (text.match(SEGMENT) || []).forEach(function (seg) {
      var n = normalize(seg);
      for (var k = 0; k < n.length; k++) { starts.push(at); ends.push(at + seg.length); }
      norm += n;
      at += seg.length;
    });
    var toks = tokens(norm, 0), terms = new Map(), byPos = [];
    toks.forEach(function (t) {
      if (!terms.has(t[0])) terms.set(t[0], new Map([[0, []]]));
      terms.get(t[0]).get(0).push(t[1]);
      byPos[t[1]] = t;
    });
    var local = {
      get: function (t) { return terms.get(t); },
      starting: function (p) { return Array.from(terms.keys()).filter(function (t) { return t.startsWith(p); }); },
    };
    var ranges = [];
    units.forEach(function (u) {
      (occurrences(u, local).get(0) || []).forEach(function (p) {
        ranges.push([starts[byPos[p][2]], ends[byPos[p + u.span - 1][3] - 1]]);
      });
    });
    ranges.sort(function (x, y) { return x[0] - y[0] || y[1] - x[1]; });
    var start = ranges.length ? Math.max(0, ranges[0][0] - Math.floor(width / 4)) : 0;
    while (start > 0 && start < text.length && /[\udc00-\udfff]/.test(text[start])) start--;
    var end = Math.min(text.length, start + width);
    while (end < text.length && /[\udc00-\udfff]/.test(text[end])) end++;
    var html = start > 0 ? "… " : "", i = start;
    ranges.forEach(function (r) {
      if (r[0] < i || r[0] >= end) return;
      html += esc(text.slice(i, r[0])) + "<mark>" + esc(text.slice(r[0], Math.min(r[1], end))) + "</mark>";
      i = Math.min(r[1], end);
    });
    return html + esc(text.slice(i, end)) + (end < text.length ? " …" : "");
  }

  var FORMAT = 1;  // the index files this script reads (build/output/search_index.py: FORMAT)

  // The `limit` (10) best results for query `q` under manifest `m`: {total: how many posts
  // match, items: [{url, title, date, excerpt}]}.
  // `file(name, isShard)`: a promise of a data file, a shard as shardTerms made it.
  function find(q, m, file, limit) {
    if (m.format !== FORMAT) return Promise.reject(new Error("search index format " + m.format + ", not " + FORMAT));
    var units = parseQuery(q), n = m.shards.length;
    var wanted = {};
    units.forEach(function (u) { unitTerms(u).forEach(function (t) { wanted[slotOf(t, m.slots) % n] = true; }); });
    var keys = Object.keys(wanted);
    return Promise.all(keys.map(function (k) { return file(m.shards[k], true); })).then(function (maps) {
      var shards = {};
      keys.forEach(function (k, i) { shards[k] = maps[i]; });
      var index = {
        get: function (t) { return shards[slotOf(t, m.slots) % n].get(t); },
        starting: function (p) {
          return Array.from(shards[slotOf(p, m.slots) % n].keys()).filter(function (t) { return t.startsWith(p); });
        },
      };
      var info = { count: m.length.length, length: m.length, average: m.average, fields: m.fields };
      var ranked = rank(units, index, info), hits = ranked.slice(0, limit || 10);
      return Promise.all(hits.map(function (h) { return file(m.docs[Math.floor(h.doc / m.per)], false); }))
        .then(function (docs) {
          var items = hits.map(function (h, i) {
            var d = docs[i][h.doc % m.per];
            return { url: d[0], title: d[1], date: d[2], excerpt: excerpt(d[3], units) };
          });
          return { total: ranked.length, items: items };
        });
    });
  }

  // A term shard's JSON as Map term -> Map doc -> positions: each string is
  // "doc term positions term positions..." (build/pages/search.py: encode_positions).
  function shardTerms(data) {
    var terms = new Map();
    data.forEach(function (entry) {
      var parts = entry.split(" "), doc = +parts[0];
      for (var k = 1; k < parts.length; k += 2) {
        if (!terms.has(parts[k])) terms.set(parts[k], new Map());
        terms.get(parts[k]).set(doc, decodePositions(parts[k + 1]));
      }
    });
    return terms;
  }

  var DIGITS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_";
  function decodePositions(s) {
    var out = [], at = 0, n = 0, shift = 0;
    for (var i = 0; i < s.length; i++) {
      var d = DIGITS.indexOf(s[i]);
      n += (d & 31) * Math.pow(2, shift);
      if (d >= 32) { shift += 5; continue; }
      at += n;
      out.push(at);
      n = 0;
      shift = 0;
    }
    return out;
  }

  var api = { normalize: normalize, tokens: tokens, slotOf: slotOf, parseQuery: parseQuery, rank: rank, excerpt: excerpt,
    find: find, shardTerms: shardTerms, decodePositions: decodePositions, FORMAT: FORMAT };
  if (typeof module === "object" && module.exports) module.exports = api;  // node: the tokenizer test
  var box = typeof document === "object" && document.getElementById("searchbox");
  if (box) setupSearch(box);

  function setupSearch(box) {
    var form = box.querySelector("form");
    var input = document.getElementById("searchInput");
    var list = document.getElementById("searchResults");
    var status = document.getElementById("searchStatus");
    var more = document.getElementById("searchMore");
    var limit = 10;  // results shown; "more" shows 10 more of the same query
    var base = box.dataset.index.replace(/[^/]*$/, "");
    var manifest = null, files = {}, seq = 0;

    function fetchJSON(url, fresh) {
      return fetch(url, fresh ? { cache: "no-cache" } : {}).then(function (r) {
        if (!r.ok) throw new Error(r.status + " " + url);
        return r.json();
      });
    }
    function loadManifest(again) {
      if (!manifest || again) manifest = fetchJSON(box.dataset.index, true);
      return manifest;
    }
    // a data file, fetched once; a shard as Map term -> Map doc -> positions
    function file(name, shard) {
      if (!files[name]) {
        files[name] = fetchJSON(base + name).then(function (data) { return shard ? shardTerms(data) : data; });
        files[name].catch(function () { delete files[name]; });
      }
      return files[name];
    }
    function search(q) {
      // a shard gone (the site was published since the manifest was read): read it again, once
      return loadManifest().then(function (m) { return find(q, m, file, limit); }).catch(function () {
        return loadManifest(true).then(function (m) { return find(q, m, file, limit); });
      });
    }
    function show(q, found) {
      var items = found.items;
      more.hidden = found.total <= items.length;
      if (!items.length) {
        list.innerHTML = "";
        status.textContent = fill(box.dataset.noResults, "{query}", q);
        status.classList.add("no-results");
        return;
      }
      status.classList.remove("no-results");
      status.textContent = fill(box.dataset.results, "{count}", String(found.total));
      list.innerHTML = items.map(function (d) {
        var date = d.date ? '<p class="result-date">' + esc(d.date) + "</p>" : "";
        return '<li class="search-result"><h2 class="result-title"><a href="' + esc(d.url) + '">' + esc(d.title) +
          "</a></h2>" + date + '<p class="result-excerpt">' + d.excerpt + "</p></li>";
      }).join("");
    }
    function run(keepLimit) {
      var q = input.value.trim();
      var typed = input.value;
      var mine = ++seq;
      if (keepLimit !== true) limit = 10;
      history.replaceState(null, "", location.pathname + (q ? "?q=" + encodeURIComponent(q) : ""));
      if (!q) {
        list.innerHTML = ""; status.textContent = ""; status.classList.remove("no-results"); more.hidden = true;
        return;
      }
      return search(typed.replace(/^\s+/, "")).then(function (found) {
        if (mine === seq) show(q, found);
      }).catch(function (err) {
        if (mine !== seq) return;
        status.textContent = box.dataset.error;
        if (window.console) console.warn(err);
      });
    }
    var timer = null;
    // not while an input method is composing (きかいg): its text is not what the reader means yet
    input.addEventListener("input", function (ev) {
      clearTimeout(timer);
      if (!ev.isComposing) timer = setTimeout(run, 120);
    });
    input.addEventListener("compositionend", function () { clearTimeout(timer); timer = setTimeout(run, 120); });
    form.addEventListener("submit", function (ev) { ev.preventDefault(); clearTimeout(timer); run(); });
    more.addEventListener("click", function () {
      var next = list.children.length;  // the first new result gets the focus, for keyboard readers
      limit += 10;
      var done = run(true);
      if (done) done.then(function () {
        var link = list.children[next] && list.children[next].querySelector("a");
        if (link) link.focus();
      });
    });
    var initial = new URLSearchParams(location.search).get("q");
    if (initial) { input.value = initial; run(); }
  }
})();
