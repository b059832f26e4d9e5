// certctl console: progressive enhancement only. Every page works without
// this script; with it, a certificate whose work is in progress updates
// itself until the work ends.
(function () {
  "use strict";
  // refreshMain replaces the page's content with a fresh copy, once the
  // work it watched has ended, so that the lists beside the live box
  // (versions, deployments, jobs) show the outcome too.
  function refreshMain() {
    fetch(location.href, { credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) { throw new Error("status " + r.status); }
        return r.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("main");
        var main = document.getElementById("main");
        if (!fresh || !main) { return; }
        main.innerHTML = fresh.innerHTML;
        if (fresh.hasAttribute("data-refresh")) {
          main.setAttribute("data-refresh", fresh.getAttribute("data-refresh"));
          refreshLater(main);
        } else {
          main.removeAttribute("data-refresh");
        }
      })
      .catch(function () {});
  }
  // refreshLater refreshes a page that lists work in progress (jobs, an
  // agent's work) until none is left, but never while the user is typing
  // in one of its fields.
  function refreshLater(main) {
    var every = parseInt(main.getAttribute("data-refresh"), 10) || 2000;
    setTimeout(function () {
      var a = document.activeElement;
      if (a && main.contains(a) && /^(INPUT|SELECT|TEXTAREA)$/.test(a.tagName)) {
        refreshLater(main);
        return;
      }
      refreshMain();
    }, every);
  }
  function poll(box) {
    var url = box.getAttribute("data-live");
    var every = parseInt(box.getAttribute("data-poll"), 10) || 2000;
    var fetched = false;
    function settled() {
      var state = box.querySelector("[data-settled]");
      return state && state.getAttribute("data-settled") === "true";
    }
    function tick() {
      if (settled()) {
        box.removeAttribute("aria-busy");
        if (fetched) { refreshMain(); }
        return;
      }
      fetched = true;
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
    var main = document.getElementById("main");
    if (main && main.hasAttribute("data-refresh")) { refreshLater(main); }
  });
})();
