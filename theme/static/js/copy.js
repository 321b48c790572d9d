// needs: .post-content .highlight
// Copy buttons on the code blocks of a post's content, labelled from <body data-copy data-copied>.
(function () {
  "use strict";
  var strings = document.body.dataset;
  if (!strings.copy) return;

  // Without the Clipboard API (a page served over plain HTTP): copy the code selected.
  function legacyCopy(node) {
    var range = document.createRange();
    range.selectNodeContents(node);
    var sel = getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    try { return document.execCommand("copy"); } catch (e) { return false; } finally { sel.removeAllRanges(); }
  }

  document.querySelectorAll(".post-content .highlight").forEach(function (block) {
    var code = block.querySelector("code");
    if (!code) return;
    var button = block.appendChild(document.createElement("button"));
    button.type = "button";
    button.className = "copy-code";
    button.textContent = strings.copy;
    button.onclick = function () {
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
    };
  });
})();
