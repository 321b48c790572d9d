// needs: .post-content .highlight, .post-content [id]
// Code copy buttons and heading anchors in a post's content.
(function () {
  "use strict";
  var strings = document.body.dataset;
  if (strings.copy) {
    document.querySelectorAll(".post-content .highlight").forEach(function (block) {
      var code = block.querySelector("code");
      if (!code) return;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "copy-code";
      button.textContent = strings.copy;
      button.addEventListener("click", function () {
        var text = code.textContent.replace(/\n$/, "");
        var done = function () {
          button.textContent = strings.copied;
          button.classList.add("copied");
          setTimeout(function () { button.textContent = strings.copy; button.classList.remove("copied"); }, 2000);
        };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(done, function () { legacyCopy(code) && done(); });
        } else if (legacyCopy(code)) {
          done();
        }
      });
      block.appendChild(button);
    });
  }

  function legacyCopy(node) {
    var range = document.createRange();
    range.selectNodeContents(node);
    var sel = getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    try { return document.execCommand("copy"); } catch (e) { return false; } finally { sel.removeAllRanges(); }
  }

  document.querySelectorAll(".post-content :is(h1,h2,h3,h4,h5,h6)[id]").forEach(function (h) {
    var a = document.createElement("a");
    a.className = "anchor";
    a.href = "#" + encodeURIComponent(h.id);
    a.setAttribute("aria-label", "#" + h.textContent);
    a.textContent = "#";
    h.appendChild(a);
  });
})();
