(function () {
  "use strict";
  var findings = Array.prototype.slice.call(document.querySelectorAll("details.finding"));
  var tools = document.getElementById("tools");
  if (tools) {
    tools.hidden = false;
    var filter = document.getElementById("filter");
    var shown = document.getElementById("shown");
    var own = findings.filter(function (d) { return d.closest("#findings"); });
    var apply = function () {
      var q = filter.value.trim().toLowerCase();
      var n = 0;
      own.forEach(function (d) {
        var hit = q === "" || d.textContent.toLowerCase().indexOf(q) >= 0;
        d.classList.toggle("is-hidden", !hit);
        if (hit) { n++; }
      });
      shown.textContent = q === "" ? "" : n + " of " + own.length + " shown";
    };
    filter.addEventListener("input", apply);
    document.getElementById("expand").addEventListener("click", function () {
      findings.forEach(function (d) { d.open = true; });
    });
    document.getElementById("collapse").addEventListener("click", function () {
      findings.forEach(function (d) { d.open = false; });
    });
  }
  // A link into a folded finding opens it.
  var reveal = function () {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id && document.getElementById(id);
    if (el && el.tagName === "DETAILS") { el.open = true; el.classList.remove("is-hidden"); }
  };
  window.addEventListener("hashchange", reveal);
  reveal();
  // Copy buttons for commands, where the clipboard can be written.
  if (navigator.clipboard && window.isSecureContext !== false) {
    Array.prototype.forEach.call(document.querySelectorAll(".cmdbox"), function (box) {
      var pre = box.querySelector("pre");
      var b = document.createElement("button");
      b.type = "button";
      b.className = "copy";
      b.textContent = "Copy";
      b.addEventListener("click", function () {
        var lines = Array.prototype.map.call(pre.querySelectorAll(".cl"), function (l) { return l.textContent; });
        var text = lines.length ? lines.join("\n") : pre.textContent;
        navigator.clipboard.writeText(text).then(function () {
          b.textContent = "Copied";
          setTimeout(function () { b.textContent = "Copy"; }, 1500);
        }, function () { b.textContent = "Select and copy"; });
      });
      box.appendChild(b);
    });
  }
})();
