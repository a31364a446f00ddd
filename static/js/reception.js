// The reception desk's board (templates/reception/index.html): it is refreshed on
// every live event and every 30 s, but never under the receptionist's fingers.
(function () {
  "use strict";
  // The receptionist is typing in the board (a reprint reason, say).
  function deskIdle() {
    var el = document.activeElement, board = document.getElementById("board");
    return !(el && board && board.contains(el) && el.matches("input, textarea, select"));
  }
  window.deskIdle = deskIdle;

  // No refresh is asked for while they type (this was the trigger's [deskIdle()]
  // filter, which htmx would have to eval).
  document.addEventListener("htmx:beforeRequest", function (e) {
    var elt = e.detail && e.detail.elt;
    if (elt && elt.id === "board" && !deskIdle()) e.preventDefault();
  });

  // A refresh keeps a row's opened "Badge 访客证" box open (the receptionist is about
  // to type a reprint reason): remember which rows had one open, reopen them after.
  var open = [];
  document.addEventListener("htmx:beforeSwap", function (e) {
    if (e.detail.target && e.detail.target.id === "board") {
      // A refresh asked before the receptionist started typing must not land under
      // their fingers either: drop it (the next one comes within 30 s).
      if (!deskIdle()) { e.detail.shouldSwap = false; return; }
      open = Array.prototype.map.call(e.detail.target.querySelectorAll("details[open]"),
        function (d) { var row = d.closest("[data-visit-id]"); return row && row.dataset.visitId; });
    }
  });
  document.addEventListener("htmx:afterSwap", function (e) {
    if (e.detail.target && e.detail.target.id === "board") {
      open.forEach(function (id) {
        var box = id && e.detail.target.querySelector('[data-visit-id="' + id + '"] details');
        if (box) box.open = true;
      });
    }
  });
})();
