// Live dashboards: one Socket.IO connection (the staff session cookie authenticates it).
//
// No alert lost: every event carries a growing `seq`. The page knows the seq it was
// rendered at (data-last-seq), keeps the last seq it applied (also in sessionStorage),
// and on every (re)connect asks the server to `replay` what came after it; each seq is
// applied once (an event replayed and also delivered live is applied once), then the
// fragments refresh once. Socket.IO reconnects by itself after a network drop; after
// a server-initiated disconnect ("io server disconnect") it does not, so we do.
// Text from visitors is only ever set with textContent, never as HTML.
(function () {
  "use strict";
  var KEY = "lobby.lastSeq";
  var SERVER_DROP_DELAY = 1000; // ms before reconnecting after the server dropped us
  var REFUSED_DELAY = 5000;     // ms before trying again after a refused connection
  var STATES = { online: "online 已连接", offline: "offline 离线", connecting: "connecting 连接中" };

  var marked = document.querySelector("[data-last-seq]");
  var pageSeq = marked ? Number(marked.dataset.lastSeq) : NaN;
  var stored = Number(sessionStorage.getItem(KEY) || NaN);
  // A page rendered at seq N shows everything up to N: start there. Pages that do not
  // say fall back to what this tab stored, or (first connect) to the server's last seq.
  var lastSeq = !isNaN(pageSeq) ? pageSeq : (!isNaN(stored) ? stored : null);
  var applied = new Set();
  var appliedList = [];
  var replaying = false;
  var replayArrivals = [];
  var sounds = 0;
  var state = document.getElementById("live-state");
  document.body.classList.add("has-live"); // pages without live updates show no dot
  var banner = document.getElementById("banner");
  var bannerTimer = null;
  var refreshTimer = null;
  var audio = null;
  // Pages that ask for it (the host's) keep an alert up until it is dismissed.
  var sticky = !!document.querySelector("[data-sticky-alerts]");
  var tz = document.documentElement.dataset.tz || (marked && marked.dataset.tz) || undefined;

  function save() { if (lastSeq !== null) sessionStorage.setItem(KEY, String(lastSeq)); }
  save();
  function setState(s) {
    if (!state) return;
    state.dataset.state = s;
    state.title = "Live updates 实时更新: " + (STATES[s] || s);
  }
  // Many events in a burst make one request.
  function refresh() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(function () {
      document.body.dispatchEvent(new CustomEvent("lobby:refresh"));
    }, 60);
  }
  var appliedCount = 0;  // events applied so far (a catch-up refreshes only when it grew)
  function fresh(ev) {
    if (!ev || typeof ev.seq !== "number" || applied.has(ev.seq)) return false;
    applied.add(ev.seq);
    appliedList.push(ev.seq);
    appliedCount += 1;
    if (lastSeq === null || ev.seq > lastSeq) { lastSeq = ev.seq; save(); }
    return true;
  }

  // --- glyphs for names the page did not have -----------------------------------
  // The server adds @font-face rules for a page's rare characters (a rare family name)
  // when it renders it; a name that arrives live asks for them once: the answer of
  // /fonts/extra.css is empty unless the UI's font subsets lack some of its characters
  // (server/extrafonts.py). Only characters past Latin Extended-A ask, each once.
  var glyphsAsked = new Set();
  function ensureGlyphs(text) {
    var fresh = Array.from(String(text || "")).filter(function (ch) {
      return ch.codePointAt(0) >= 0x180 && !glyphsAsked.has(ch);
    });
    if (!fresh.length) return;
    fresh.forEach(function (ch) { glyphsAsked.add(ch); });
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = "/fonts/extra.css?c=" + encodeURIComponent(fresh.join(""));
    document.head.appendChild(link);
  }
  // What the page was rendered with already has its rules.
  Array.from(document.body.textContent).forEach(function (ch) { glyphsAsked.add(ch); });

  // --- the banner, the sound, the desktop notification -------------------------
  function hideBanner() { if (banner) banner.hidden = true; }
  function showBanner(text, kind, sticky) {
    if (!banner) return;
    ensureGlyphs(text);
    banner.textContent = "";
    var span = document.createElement("span");
    span.className = "banner-text";
    span.textContent = text;
    banner.appendChild(span);
    var close = document.createElement("button");
    close.type = "button";
    close.className = "banner-close";
    close.setAttribute("aria-label", "Dismiss 关闭");
    close.textContent = "×";
    close.addEventListener("click", hideBanner);
    banner.appendChild(close);
    banner.className = "banner" + (kind ? " banner-" + kind : "");
    banner.hidden = false;
    clearTimeout(bannerTimer);
    // An arrival stays until dismissed: it must not be missed.
    if (!sticky) bannerTimer = setTimeout(hideBanner, 15000);
  }
  function audioContext() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return null;
    if (!audio) audio = new Ctx();
    if (audio.state === "suspended") audio.resume().catch(function () {});
    return audio;
  }
  // Browsers start audio only after a user gesture: unlock it on the first one.
  function unlock() {
    audioContext();
    document.removeEventListener("pointerdown", unlock, true);
    document.removeEventListener("keydown", unlock, true);
  }
  document.addEventListener("pointerdown", unlock, true);
  document.addEventListener("keydown", unlock, true);
  // A short two-tone chime made with the Web Audio API (no audio file).
  function beep() {
    sounds += 1;
    var ctx;
    try { ctx = audioContext(); } catch (e) { return; }
    if (!ctx) return;
    [[880, 0], [1175, 0.18]].forEach(function (tone) {
      var osc = ctx.createOscillator();
      var gain = ctx.createGain();
      var t = ctx.currentTime + tone[1];
      osc.type = "sine";
      osc.frequency.value = tone[0];
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(0.35, t + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.16);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t);
      osc.stop(t + 0.18);
    });
  }
  function notify(title, body, tag) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    try {
      var n = new Notification(title, { body: body, tag: tag });
      n.onclick = function () { window.focus(); n.close(); };
    } catch (e) { /* some browsers allow notifications only from a service worker */ }
  }
  function who(ev) {
    var v = ev.visitor || {};
    return v.company ? v.name + " from " + v.company : String(v.name);
  }
  function hhmm(iso) {
    if (!iso) return "?";
    var d = new Date(iso);
    if (isNaN(d)) return "?";
    try {
      return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hour12: false, timeZone: tz });
    } catch (e) {
      return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hour12: false });
    }
  }
  function arrivalText(ev) {
    if (ev.renotified) {
      var forHost = ev.for_host && ev.host && ev.for_host !== ev.host.name ? " (for " + ev.for_host + ")" : "";
      return "Still waiting: " + who(ev) + forHost + " is here · 仍在等候";
    }
    // The host is away: their delegate meets the visitor ("for Grace Hopper, away").
    var away = ev.delegate && ev.for_host
      ? " for " + ev.for_host + " (away; " + ev.delegate.name + " meets them)" : "";
    // The room from the request's arrangement sheet: "Ada Lovelace → Room 3".
    return who(ev) + " is here" + away + (ev.room ? " → " + ev.room : "") + " · 已到达";
  }
  function alertArrivals(list) {
    if (!list.length) return;
    var text;
    if (list.length === 1) {
      text = arrivalText(list[0]);
    } else {
      text = list.length + " visitors arrived while you were offline: " +
        list.map(function (ev) { return (ev.visitor || {}).name; }).join(", ") + " · 已到达";
    }
    showBanner(text, "arrival", sticky);
    beep();
    notify(list.length === 1 ? "Visitor arrived 访客已到达" : list.length + " visitors arrived 访客已到达",
           text, list.length === 1 ? "visit-" + list[0].visit_id : "arrivals");
    list.forEach(function (ev) {
      document.dispatchEvent(new CustomEvent("lobby:arrival", { detail: ev }));
    });
  }

  // The navigation's "Approvals 审批 (n)": asked again when a request moves.
  function approvalsCount() {
    var link = document.getElementById("nav-approvals");
    if (!link) return;
    fetch(link.getAttribute("href") + "/count", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (!body) return;
        var badge = document.getElementById("approvals-count");
        if (!badge && body.count) {
          badge = document.createElement("span");
          badge.className = "count";
          badge.id = "approvals-count";
          link.appendChild(document.createTextNode(" "));
          link.appendChild(badge);
        }
        if (badge) {
          badge.textContent = String(body.count);
          badge.hidden = !body.count;
        }
      })
      .catch(function () {});
  }

  // --- events ------------------------------------------------------------------
  var handlers = {
    visitor_arrived: function (ev) {
      if (replaying) replayArrivals.push(ev); else alertArrivals([ev]);
    },
    visitor_left: function () {},
    visit_updated: function () {},
    task_updated: function (ev) {
      // A tour newly planned through this user's department: they must know ahead.
      var task = ev.task || {}, dept = document.body.dataset.department;
      if (ev.reminder && task.kind === "follow_up") {
        // A promised answer near its deadline ("before") or past it ("overdue").
        var d = task.details || {}, late = ev.reminder === "overdue";
        var text = (late ? "Promised answer overdue: " : "Promised answer due at " +
                    hhmm(task.starts_at) + ": ") + (d.question || "") + " — " +
                   ((ev.visitor || {}).name || "") + (late ? " · 承诺答复已逾期" : " · 承诺答复即将到期");
        showBanner(text, "reminder", sticky);
        beep();
        notify(late ? "Promised answer overdue 承诺答复已逾期" : "Promised answer due 承诺答复即将到期",
               text, "follow-up-" + task.id);
        return;
      }
      if (task.kind !== "tour" || task.status !== "planned" || !dept) return;
      if (!(task.stops || []).some(function (s) { return s.department === dept; })) return;
      var v = ev.visitor || {};
      var title = (task.details && task.details.title) || "Tour";
      showBanner(title + " through " + dept + " at " + hhmm(task.starts_at) + ": " +
                 (v.company ? v.name + " from " + v.company : v.name) +
                 " · 参观将经过您的部门", "reminder", sticky);
    },
    printer_status: function () {},
    desk_request: function () {},  // a kiosk asks the desk: the panel refreshes
    watchlist_match: function (ev) {  // reception and admins only: who, and why
      var v = ev.visitor || {}, d = ev.details || {};
      var text = "On the watchlist 命中观察名单: " + (v.company ? v.name + " (" + v.company + ")" : v.name) +
                 " — " + (d.why || "") + " · please see them at the desk 请前台接待";
      showBanner(text, "reminder", sticky);
      beep();
      notify("On the watchlist 命中观察名单", text, "watchlist-" + ev.request_id);
    },
    approval_needed: function (ev) {  // a request waits on this user's decision
      approvalsCount();
      var c = ev.client || {};
      var text = "Approval needed 待您审批: " + c.company + " " + "★".repeat(c.star_level || 0) +
                 " — " + ((ev.requester || {}).name || "");
      showBanner(text, "reminder", sticky);
      notify("Approval needed 待您审批", text, "request-" + ev.request_id);
    },
    request_updated: function (ev) {  // the requester's request moved
      approvalsCount();
      var c = ev.client || {};
      showBanner("Request 申请 " + c.company + ": " + ev.decision + " → " + ev.status +
                 (ev.step ? " (" + ev.step + ")" : ""), "reminder", false);
    },
    arrangement_filed: function (ev) {
      var c = ev.client || {};
      showBanner("Arrangement sheet filed 接待安排表已提交: " + c.company, "reminder", false);
    },
    arrangement_overdue: function (ev) {
      var c = ev.client || {};
      var text = "Arrangement sheet overdue 接待安排表逾期未提交: " + c.company;
      showBanner(text, "reminder", sticky);
      beep();
      notify("Arrangement sheet overdue 安排表逾期", text, "overdue-" + ev.request_id);
    },
    president_notice: function (ev) {
      var c = ev.client || {};
      var text = "The president attends 总裁出席: " + c.company + " · " + hhmm(ev.arrives_at);
      showBanner(text, "reminder", sticky);
      beep();
      notify("President attends 总裁出席", text, "president-" + ev.request_id);
    },
    tour_reminder: function (ev) {
      var task = ev.task || {};
      var title = (task.details && task.details.title) || "Tour";
      var text = "Tour " + title + " starts at " + hhmm(task.starts_at) + " — not confirmed · 参观未确认";
      showBanner(text, "reminder", sticky);
      beep();
      notify("Tour not confirmed 参观未确认", text, "tour-" + task.id);
    },
  };
  var socket = io({ transports: ["websocket", "polling"], reconnectionDelay: 500,
                    reconnectionDelayMax: 3000 });
  Object.keys(handlers).forEach(function (kind) {
    socket.on(kind, function (ev) {
      if (!fresh(ev)) return;
      handlers[kind](ev);
      if (!replaying) refresh();
    });
  });

  function replay(since, upTo, quiet) {
    var before = appliedCount;
    replaying = true;
    socket.timeout(10000).emit("replay", { since: since }, function (err, ack) {
      if (err || !ack || typeof ack.last_seq !== "number") {
        // Timed out or refused: the next connect asks again from lastSeq.
        replaying = false;
        alertArrivals(replayArrivals.splice(0));
        refresh();
        return;
      }
      if (ack.last_seq > lastSeq) { lastSeq = ack.last_seq; save(); }
      if (ack.last_seq < upTo && ack.last_seq > since) { replay(ack.last_seq, upTo, quiet); return; }
      replaying = false;
      alertArrivals(replayArrivals.splice(0));
      if (!quiet || appliedCount !== before) refresh();
    });
  }

  // A dashboard that stays connected while the message queue (Redis) is down, or while
  // the process that emitted an event could not publish it, misses that event live; it
  // is in the database. So every CATCH_UP_MS a connected page asks for what came after
  // the last seq it knows (usually nothing: one indexed query), quietly.
  var CATCH_UP_MS = window.lobbyCatchUpMs || 20000;  // a test may set it shorter
  setInterval(function () {
    if (socket.connected && !replaying && lastSeq !== null) replay(lastSeq, lastSeq, true);
  }, CATCH_UP_MS);

  socket.on("connect", function () { setState("online"); });
  socket.on("hello", function (hello) {
    var serverSeq = Number(hello && hello.last_seq) || 0;
    if (lastSeq === null) {
      lastSeq = serverSeq;
      save();
      refresh();
    } else if (serverSeq < lastSeq) {
      // The event log went back (a fresh database): start again from the server's.
      lastSeq = serverSeq;
      applied.clear();
      save();
      refresh();
    } else if (serverSeq > lastSeq) {
      replay(lastSeq, serverSeq);
    } else {
      refresh();
    }
  });
  socket.on("disconnect", function (reason) {
    setState("offline");
    if (reason === "io server disconnect") {
      setTimeout(function () { if (!socket.connected) { setState("connecting"); socket.connect(); } },
                 SERVER_DROP_DELAY);
    }
  });
  socket.io.on("reconnect_attempt", function () { setState("connecting"); });
  socket.on("connect_error", function () {
    setState("offline");
    // Refused by the server (not a network error): socket.io will not retry by itself.
    if (!socket.active) {
      setTimeout(function () { if (!socket.connected) socket.connect(); }, REFUSED_DELAY);
    }
  });

  window.lobbyLive = {
    socket: socket,
    lastSeq: function () { return lastSeq; },
    applied: function () { return appliedList.slice(); },
    sounds: function () { return sounds; },
    beep: beep,
    showBanner: showBanner,
  };
})();
