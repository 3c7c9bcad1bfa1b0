// Narrative Tracker: draw every chart on the page from the Vega-Lite spec embedded beside it
// (tracker/serve/plugin.py writes <div class="tracker-chart" data-spec-id=...> and a JSON
// <script type="application/json">). Needs vega-embed.js, loaded before this file.
(function () {
  "use strict";
  function draw() {
    var charts = document.querySelectorAll("div.tracker-chart[data-spec-id]");
    Array.prototype.forEach.call(charts, function (el) {
      var source = document.getElementById(el.getAttribute("data-spec-id"));
      if (!source || !window.vegaEmbed) {
        return;
      }
      var spec = JSON.parse(source.textContent);
      window.vegaEmbed(el, spec, { actions: false, renderer: "svg" }).then(function () {
        el.setAttribute("data-drawn", "1");
      }).catch(function (err) {
        el.textContent = "The chart could not be drawn: " + err;
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
