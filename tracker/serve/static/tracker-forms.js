// Narrative Tracker: pick lists on the canned-query forms (tracker/serve/plugin.py embeds the
// options as JSON in <script type="application/json" id="tracker-pick-options">). A narrative
// parameter becomes a select of labels, an entity parameter offers the most-named entities,
// and day parameters get the browser's date picker; the values sent are the same ids and days.
(function () {
  "use strict";
  function setUp() {
    var source = document.getElementById("tracker-pick-options");
    if (!source) { return; }
    var picks = JSON.parse(source.textContent);
    var narrative = document.querySelector("form input[name=narrative]");
    if (narrative) {
      var select = document.createElement("select");
      select.name = "narrative";
      select.id = narrative.id;
      var current = (narrative.value || "").trim().toLowerCase();
      var blank = document.createElement("option");
      blank.value = "";
      blank.textContent = picks.narrative_blank || "(default)";
      select.appendChild(blank);
      picks.narratives.forEach(function (n) {
        var option = document.createElement("option");
        option.value = n.id;
        option.textContent = n.label;
        if (current && (current === n.id.toLowerCase() || current === n.label.toLowerCase())) {
          option.selected = true;
        }
        select.appendChild(option);
      });
      narrative.parentNode.replaceChild(select, narrative);
    }
    var entity = document.querySelector("form input[name=entity]");
    if (entity) {
      var list = document.createElement("datalist");
      list.id = "tracker-entity-list";
      picks.entities.forEach(function (e) {
        var option = document.createElement("option");
        option.value = e.id;
        option.label = e.name;
        list.appendChild(option);
      });
      entity.setAttribute("list", list.id);
      entity.setAttribute("placeholder", "pick or type a name");
      entity.parentNode.appendChild(list);
    }
    ["day", "start", "end", "week_ending"].forEach(function (name) {
      var input = document.querySelector("form input[name=" + name + "]");
      if (input) { input.type = "date"; }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
