// Live dashboards: one Socket.IO connection (the staff session cookie authenticates
// it). Every event carries a growing `seq`; after a reconnect the page asks the
// server to replay what it missed, and applies each seq once. Text from visitors is
// only ever set with textContent, never as HTML.
(function () {
  "use strict";
  var KEY = "lobby.lastSeq";
  var lastSeq = Number(sessionStorage.getItem(KEY) || 0);
  var applied = new Set();
  var state = document.getElementById("live-state");
  var banner = document.getElementById("banner");
  var bannerTimer = null;

  function setState(s) { if (state) { state.dataset.state = s; state.title = "Live updates: " + s; } }
  function refresh() { document.body.dispatchEvent(new CustomEvent("lobby:refresh")); }
  function fresh(ev) {
    if (!ev || typeof ev.seq !== "number" || applied.has(ev.seq)) return false;
    applied.add(ev.seq);
    if (ev.seq > lastSeq) { lastSeq = ev.seq; sessionStorage.setItem(KEY, String(lastSeq)); }
    return true;
  }
  function showBanner(text) {
    if (!banner) return;
    banner.textContent = text;
    banner.hidden = false;
    clearTimeout(bannerTimer);
    bannerTimer = setTimeout(function () { banner.hidden = true; }, 15000);
  }
  function who(ev) {
    var v = ev.visitor || {};
    return v.company ? v.name + " from " + v.company : v.name;
  }

  var socket = io({ transports: ["websocket", "polling"] });
  socket.on("connect", function () { setState("online"); });
  socket.on("disconnect", function () { setState("offline"); });
  socket.on("connect_error", function () { setState("offline"); });
  socket.on("hello", function (hello) {
    if (lastSeq && hello.last_seq > lastSeq) {
      socket.emit("replay", { since: lastSeq });
    } else if (!lastSeq) {
      lastSeq = hello.last_seq;
      sessionStorage.setItem(KEY, String(lastSeq));
    }
    refresh();
  });
  socket.on("visitor_arrived", function (ev) {
    if (!fresh(ev)) return;
    showBanner(who(ev) + " is here · 已到达");
    document.dispatchEvent(new CustomEvent("lobby:arrival", { detail: ev }));
    refresh();
  });
  socket.on("visitor_left", function (ev) { if (fresh(ev)) refresh(); });
  socket.on("visit_updated", function (ev) { if (fresh(ev)) refresh(); });
  socket.on("printer_status", function (ev) { if (fresh(ev)) refresh(); });
  window.lobbyLive = { socket: socket, lastSeq: function () { return lastSeq; } };
})();
