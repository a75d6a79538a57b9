(function () {
  "use strict";
  var text = document.getElementById("filter-text");
  var verdict = document.getElementById("filter-verdict");
  var shown = document.getElementById("shown");
  var files = document.querySelectorAll("tbody.file");
  function apply() {
    var want = verdict.value;
    var words = text.value.toLowerCase().split(/\s+/).filter(Boolean);
    var count = 0;
    for (var i = 0; i < files.length; i++) {
      var file = files[i];
      var hay = file.getAttribute("data-search") || "";
      var ok = !want || file.getAttribute("data-verdict") === want;
      for (var j = 0; ok && j < words.length; j++) {
        ok = hay.indexOf(words[j]) !== -1;
      }
      file.hidden = !ok;
      if (ok) { count++; }
    }
    shown.textContent = String(count);
  }
  text.addEventListener("input", apply);
  verdict.addEventListener("change", apply);
  apply();
})();
