// The host's dashboard: desktop-alert permission, a sound check, adding tour stops,
// waiting minutes that move on their own, and forms that survive a live refresh
// (an open form keeps its typed values when #visits is re-rendered by an event).
(function () {
  "use strict";
  var visits = document.getElementById("visits");
  if (!visits) return;

  // --- desktop notifications: offered, never forced ------------------------------
  var enable = document.getElementById("enable-notifications");
  var note = document.getElementById("notifications-state");
  function showPermission() {
    if (!("Notification" in window)) return;
    enable.hidden = Notification.permission !== "default";
    if (Notification.permission === "denied") {
      note.hidden = false;
      note.textContent = "Desktop alerts are blocked in this browser's settings. 桌面提醒已被浏览器设置阻止。";
    } else if (Notification.permission === "granted") {
      note.hidden = false;
      note.textContent = "Desktop alerts on 桌面提醒已开启";
    }
  }
  enable.addEventListener("click", function () {
    Notification.requestPermission().then(showPermission, showPermission);
  });
  showPermission();

  document.getElementById("sound-check").addEventListener("click", function () {
    if (window.lobbyLive) window.lobbyLive.beep();
  });

  // --- the arrival banner shows the visitor's kiosk photo when there is one ------
  document.addEventListener("lobby:arrival", function (e) {
    var ev = e.detail || {};
    var banner = document.getElementById("banner");
    var id = Number(ev.visit_id);
    if (!ev.photo || !banner || banner.hidden || !id) return;
    var img = document.createElement("img");
    img.className = "banner-photo";
    img.src = "/host/visits/" + id + "/photo.jpg";
    img.alt = "";
    img.width = img.height = 56;
    banner.insertBefore(img, banner.firstChild);
  });

  // --- "On my way" answers the arrival: its banner leaves the cards -------------------
  // (live.js keeps an arrival banner up until it is dismissed; answering it is that.)
  // Its answer replaces the form, so htmx sends no afterRequest: watch the swap.
  document.body.addEventListener("htmx:beforeSwap", function (e) {
    var elt = e.detail.requestConfig && e.detail.requestConfig.elt;
    var banner = document.getElementById("banner");
    if (!e.detail.shouldSwap || !elt || !elt.matches || !elt.matches("form.ack") || !banner) return;
    if (banner.classList.contains("banner-arrival")) banner.hidden = true;
  });

  // --- tour stops: one row at least, more on demand ------------------------------
  visits.addEventListener("click", function (e) {
    var add = e.target.closest(".add-stop");
    if (!add) return;
    var rows = add.parentNode.querySelectorAll(".stop-row");
    var row = rows[rows.length - 1].cloneNode(true);
    row.querySelectorAll("input").forEach(function (input) { input.value = ""; });
    add.parentNode.insertBefore(row, add);
    row.querySelector("input").focus();
  });

  // --- waiting minutes tick between refreshes ------------------------------------
  var warnAfter = Number(visits.dataset.warnMinutes || 5);
  function tick() {
    var now = Date.now();
    visits.querySelectorAll(".waited[data-minutes]").forEach(function (el) {
      if (!el._t0) el._t0 = now;
      var m = Number(el.dataset.minutes) + Math.floor((now - el._t0) / 60000);
      el.querySelector(".minutes").textContent = String(m);
      var overdue = m >= warnAfter;
      el.classList.toggle("overdue", overdue);
      var card = el.closest(".visit-card");
      if (card) card.classList.toggle("overdue", overdue);
    });
  }
  setInterval(tick, 15000);

  // --- keep open forms (and what was typed) across a live refresh ----------------
  var saved = null;
  function snapshot(except) {
    var open = [];
    visits.querySelectorAll("details[open][id], .farewell-confirm[id]").forEach(function (d) {
      var form = d.querySelector("form[id]");
      if (form && form === except) return; // the form just sent: the answer decides
      var entry = { id: d.id, form: null };
      if (form) {
        entry.form = {
          id: form.id,
          rows: form.querySelectorAll(".stop-row").length,
          values: Array.prototype.map.call(form.elements, function (el) {
            return el.type === "hidden" ? null : el.value;
          }),
        };
      }
      open.push(entry);
    });
    var active = document.activeElement;
    return { open: open, focus: active && visits.contains(active) && active.form && active.form.id
             ? { form: active.form.id, name: active.name } : null };
  }
  function restore(snap) {
    snap.open.forEach(function (entry) {
      var d = document.getElementById(entry.id);
      if (!d) return;
      if (d.tagName === "DETAILS") d.open = true;
      if (!entry.form) return;
      var form = document.getElementById(entry.form.id);
      if (!form) return;
      var add = form.querySelector(".add-stop");
      while (add && form.querySelectorAll(".stop-row").length < entry.form.rows) add.click();
      entry.form.values.forEach(function (value, i) {
        var el = form.elements[i];
        if (value !== null && el && el.type !== "hidden") el.value = value;
      });
    });
    if (snap.focus) {
      var form = document.getElementById(snap.focus.form);
      var el = form && snap.focus.name && form.elements[snap.focus.name];
      if (el && el.focus) el.focus({ preventScroll: true });
    }
  }
  // The host's own actions and live refreshes both redraw the list; they must not
  // cross. A refresh asked while an action is on its way waits for it (it would not
  // yet know what the action opens, the farewell step say); a refresh asked before an
  // action is stale when it lands and is asked again.
  var pending = 0, refreshAfter = false, lastAction = 0;
  document.body.addEventListener("htmx:beforeRequest", function (e) {
    var elt = e.detail.elt, xhr = e.detail.xhr;
    if (elt === visits) {
      if (pending) { e.preventDefault(); refreshAfter = true; return; }
      xhr.lobbyAskedAt = performance.now();
    } else if (visits.contains(elt)) {
      pending += 1;
      lastAction = performance.now();
      xhr.lobbyAction = true;
    }
  });
  document.body.addEventListener("htmx:afterRequest", function (e) {
    if (!e.detail.xhr || !e.detail.xhr.lobbyAction) return;
    pending = Math.max(0, pending - 1);
    if (!pending && refreshAfter) {
      refreshAfter = false;
      document.body.dispatchEvent(new CustomEvent("lobby:refresh"));
    }
  });
  document.body.addEventListener("htmx:beforeSwap", function (e) {
    var xhr = e.detail.xhr;
    if (e.detail.elt !== visits || !xhr || xhr.lobbyAskedAt === undefined) return;
    if (xhr.lobbyAskedAt < lastAction) {
      e.detail.shouldSwap = false;
      document.body.dispatchEvent(new CustomEvent("lobby:refresh"));
    }
  });
  // The farewell step stays open through a live refresh: the refresh asks for it.
  document.body.addEventListener("htmx:configRequest", function (e) {
    if (e.detail.elt !== visits) return;
    var step = visits.querySelector(".farewell-confirm[data-visit-id]");
    if (step) e.detail.parameters["farewell"] = step.dataset.visitId;
  });
  document.body.addEventListener("htmx:beforeSwap", function (e) {
    if (e.detail.target !== visits) return;
    var elt = e.detail.requestConfig && e.detail.requestConfig.elt;
    saved = snapshot(elt && elt.tagName === "FORM" ? elt : null);
  });
  // What the host's last action said (the thank-you, the promises still open) stays
  // on its card through the live refreshes that follow, until the next action.
  var feedback = [];
  function keepFeedback() {
    feedback = Array.prototype.map.call(
      visits.querySelectorAll(".visit-card[id] > .card-feedback"),
      function (node) { return { card: node.parentNode.id, node: node }; });
  }
  function putFeedbackBack() {
    feedback.forEach(function (kept) {
      var card = document.getElementById(kept.card);
      if (!card || card.querySelector(":scope > .card-feedback")) return;
      var anchors = card.querySelectorAll(":scope > .meta, :scope > .where, :scope > .purpose");
      var after = anchors[anchors.length - 1];
      if (after) after.after(kept.node); else card.appendChild(kept.node);
    });
  }
  document.body.addEventListener("htmx:afterSwap", function (e) {
    if (e.detail.target !== visits) return;
    var elt = e.detail.requestConfig && e.detail.requestConfig.elt;
    if (elt === visits) putFeedbackBack(); else keepFeedback();
    if (!saved) return;
    restore(saved);
    saved = null;
    tick();
  });
})();
