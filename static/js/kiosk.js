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

  // Live: the host's "on my way" reaches the visitor. The kiosk's device cookie puts
  // this socket in room kiosk:<id>. Names only ever through textContent.
  var notice = document.getElementById("kiosk-notice");
  var noticeTimer = null;
  var recent = {}; // visit id -> welcomed at (ms): an answer after the idle reset still shows
  document.body.addEventListener("htmx:afterSwap", function (e) {
    if (e.target !== result) return;
    var welcome = result.querySelector("[data-outcome=welcome][data-visit-id]");
    if (welcome) recent[welcome.dataset.visitId] = Date.now();
  });
  function onTheWay(ev) {
    var host = (ev.host && ev.host.name) || "Your host";
    var text = host + " is on the way · 正在赶来";
    var welcome = result.querySelector("[data-outcome=welcome][data-visit-id='" + Number(ev.visit_id) + "']");
    if (welcome) {
      var line = welcome.querySelector(".on-the-way");
      line.textContent = text;
      line.hidden = false;
      armReset(); // give the visitor time to read it
      return;
    }
    var at = recent[ev.visit_id];
    if (!at || Date.now() - at > 10 * 60 * 1000) return;
    notice.textContent = ((ev.visitor && ev.visitor.name) || "") + ": " + text;
    notice.hidden = false;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(function () { notice.hidden = true; }, 15000);
  }
  if (window.io) {
    var socket = io({ transports: ["websocket", "polling"], reconnectionDelay: 500,
                      reconnectionDelayMax: 5000 });
    socket.on("visit_updated", function (ev) {
      if (ev && ev.change === "acknowledged") onTheWay(ev);
    });
    socket.on("disconnect", function (reason) {
      if (reason === "io server disconnect") setTimeout(function () { socket.connect(); }, 1000);
    });
    window.lobbyKiosk = { socket: socket };
  }
})();
