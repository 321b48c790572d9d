// needs: .giscus
// giscus comments (only on sites that configure them): load its client with the page's
// theme, then follow the toggle and the system setting.
(function () {
  var root = document.documentElement;
  var giscus = document.querySelector(".giscus[data-repo]");
  if (!giscus) return;
  var giscusTheme = function () { return root.dataset.theme === "dark" ? "dark" : "light"; };
  var client = document.createElement("script");
  client.src = "https://giscus.app/client.js";
  client.async = true;
  client.crossOrigin = "anonymous";
  Object.keys(giscus.dataset).forEach(function (key) { client.dataset[key] = giscus.dataset[key]; });
  client.dataset.theme = giscusTheme();
  giscus.after(client);
  new MutationObserver(function () {
    var frame = document.querySelector("iframe.giscus-frame");
    if (frame) frame.contentWindow.postMessage({ giscus: { setConfig: { theme: giscusTheme() } } }, "https://giscus.app");
  }).observe(root, { attributes: true, attributeFilter: ["data-theme"] });
})();
