// certctl console: progressive enhancement only. Every page works without
// this script; with it, a certificate whose work is in progress updates
// itself until the work ends.
(function () {
  "use strict";
  function poll(box) {
    var url = box.getAttribute("data-live");
    var every = parseInt(box.getAttribute("data-poll"), 10) || 2000;
    function settled() {
      var state = box.querySelector("[data-settled]");
      return state && state.getAttribute("data-settled") === "true";
    }
    function tick() {
      if (settled()) {
        box.removeAttribute("aria-busy");
        return;
      }
      box.setAttribute("aria-busy", "true");
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) {
          if (!r.ok) { throw new Error("status " + r.status); }
          return r.text();
        })
        .then(function (html) {
          box.innerHTML = html;
          setTimeout(tick, every);
        })
        .catch(function () { setTimeout(tick, every * 3); });
    }
    setTimeout(tick, every);
  }
  document.addEventListener("DOMContentLoaded", function () {
    var boxes = document.querySelectorAll("[data-live]");
    for (var i = 0; i < boxes.length; i++) { poll(boxes[i]); }
  });
})();
