// "Promised answers 承诺答复" on the host's page (templates/host/_follow_ups.html): the
// list refreshes itself (live events, every 60 s, after an answer), but a refresh must
// not close an answer form the host opened or wipe what they typed.
(function () {
  "use strict";
  function followUpsIdle() {
    var box = document.getElementById("follow-ups");
    if (!box) return true;
    if (box.querySelector("details[open]")) return false;
    return !Array.prototype.some.call(box.querySelectorAll("textarea"), function (t) {
      return t === document.activeElement || t.value.trim() !== "";
    });
  }
  window.followUpsIdle = followUpsIdle;

  function isList(elt) { return elt && elt.id === "follow-ups"; }

  // None is asked for meanwhile ...
  document.addEventListener("htmx:beforeRequest", function (e) {
    if (isList(e.detail && e.detail.elt) && !followUpsIdle()) e.preventDefault();
  });
  // ... and one already on its way is not swapped in.
  document.addEventListener("htmx:beforeSwap", function (e) {
    if (isList(e.detail && e.detail.elt) && !followUpsIdle()) e.detail.shouldSwap = false;
  });
  // An answer sent: its form is emptied and folded, and the list asked for again.
  document.addEventListener("htmx:afterRequest", function (e) {
    var form = e.detail && e.detail.elt;
    if (!form || !form.matches || !form.matches("form[data-follow-up-answer]")) return;
    if (!e.detail.successful) return;
    form.reset();
    var details = form.closest("details");
    if (details) details.open = false;
    htmx.trigger("#follow-ups", "followups:changed");
  });
})();
