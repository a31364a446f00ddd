// Kiosk: keep the code field focused (keyboard-wedge scanners type into it), clear it
// after each scan, and return to the start screen after a few idle seconds.
(function () {
  "use strict";
  var screen = document.querySelector(".kiosk-screen");
  var input = document.getElementById("code");
  var form = document.getElementById("scan-form");
  var start = document.getElementById("kiosk-start");
  var result = document.getElementById("kiosk-result");
  var idle = Number(screen.dataset.idleSeconds || 8) * 1000;
  var timer = null;

  function focus() { if (document.activeElement !== input) input.focus({ preventScroll: true }); }
  function reset() {
    result.innerHTML = "";
    start.hidden = false;
    input.value = "";
    focus();
  }
  function armReset() { clearTimeout(timer); timer = setTimeout(reset, idle); }

  document.addEventListener("click", focus);
  input.addEventListener("blur", function () { setTimeout(focus, 0); });
  setInterval(focus, 1000);

  form.addEventListener("htmx:beforeRequest", function () { clearTimeout(timer); });
  form.addEventListener("htmx:afterRequest", function () { input.value = ""; focus(); });
  document.body.addEventListener("htmx:afterSwap", function (e) {
    if (e.target !== result) return;
    start.hidden = result.innerHTML.trim() !== "";
    armReset();
  });
  if (result.innerHTML.trim() !== "") { armReset(); }
  focus();
})();
