// needs: .post-content h1[id], .post-content h2[id], .post-content h3[id], .post-content h4[id], .post-content h5[id], .post-content h6[id]
// A `#` link after each heading of a post's content, to the heading itself.
(function () {
  "use strict";
  document.querySelectorAll(".post-content :is(h1,h2,h3,h4,h5,h6)[id]").forEach(function (h) {
    var a = document.createElement("a");
    a.className = "anchor";
    a.href = "#" + encodeURIComponent(h.id);
    a.setAttribute("aria-label", "#" + h.textContent);
    a.textContent = "#";
    h.appendChild(a);
  });
})();
