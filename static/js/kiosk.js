// The kiosk: one page, many screens. The start screen (#kiosk-start) scans codes (a
// keyboard-wedge scanner types into the always-focused field; the camera reads QR codes
// when there is one); every other screen is a fragment swapped into #kiosk-result.
//
// - Language: every request carries `lang` (and `lang_chosen` once the visitor pressed
//   the switch); the switch re-renders the current screen from its data-refresh URL.
// - Idle: a step left alone for data-idle-seconds, or a result shown for
//   data-result-seconds, returns to the start screen and clears the visitor's data.
// - Offline: a request that cannot reach the server is retried every 2 s with the same
//   form (and so the same attempt key: the server does it once), and the screen says so
//   in both languages until the server answers again.
// - Live: the host's "on my way" and the badge's fate reach the welcome screen.
// Visitor-entered text only ever goes into the page through textContent.
(function () {
  "use strict";
  var root = document.getElementById("kiosk");
  var start = document.getElementById("kiosk-start");
  var result = document.getElementById("kiosk-result");
  var offline = document.getElementById("kiosk-offline");
  var notice = document.getElementById("kiosk-notice");
  var defaultLang = root.dataset.defaultLang || "en";
  var lang = root.dataset.lang || defaultLang;
  var langChosen = false;
  var idleMs = Number(root.dataset.idleSeconds || 30) * 1000;
  var resultMs = Number(root.dataset.resultSeconds || 12) * 1000;
  var timer = null;
  var retryTimer = null;
  var pending = null; // the element whose request failed to reach the server
  var lastCode = { text: "", at: 0 };
  var DEDUPE_MS = 4000;
  var CAMERA_REPEAT_MS = 30000;
  var camera = window.lobbyCamera;

  function codeInput() { return document.getElementById("code"); }
  function scanForm() { return document.getElementById("scan-form"); }
  function onStart() { return result.innerHTML.trim() === ""; }
  function current() { return result.firstElementChild; }

  // ---- language ---------------------------------------------------------------
  function applyLang(code) {
    lang = code;
    root.dataset.lang = code;
    document.documentElement.lang = code === "zh" ? "zh-CN" : "en";
    document.querySelectorAll(".lang-switch .lang").forEach(function (b) {
      b.setAttribute("aria-pressed", b.dataset.lang === code ? "true" : "false");
    });
  }
  function formValues(scope) {
    var values = {};
    if (!scope) return values;
    scope.querySelectorAll("input[name], select[name], textarea[name]").forEach(function (el) {
      if (el.name === "csrf_token" || el.type === "file" || el.name === "photo_data") return;
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) return;
      values[el.name] = el.value;
    });
    return values;
  }
  function switchLang(code) {
    if (code === lang) return;
    applyLang(code);
    langChosen = true;
    htmx.ajax("GET", root.dataset.startUrl, { target: "#kiosk-start", swap: "innerHTML" });
    var screen = current();
    if (screen && screen.dataset.refresh) {
      htmx.ajax("GET", screen.dataset.refresh, { target: "#kiosk-result", swap: "innerHTML",
                                                 values: formValues(screen) });
    }
  }
  document.querySelectorAll(".lang-switch .lang").forEach(function (b) {
    b.addEventListener("click", function () { switchLang(b.dataset.lang); });
  });
  document.body.addEventListener("htmx:configRequest", function (e) {
    e.detail.parameters.lang = lang;
    if (langChosen) e.detail.parameters.lang_chosen = "1";
  });

  // ---- screens, idle reset, focus -----------------------------------------------
  function arm() {
    clearTimeout(timer);
    if (onStart() || pending) return;
    var screen = current();
    // A result shows for resultMs; a step waits idleMs, or its own data-idle-seconds
    // (reading the site rules takes longer).
    var ms = screen && screen.dataset.timeout === "result" ? resultMs
      : (screen && Number(screen.dataset.idleSeconds) * 1000) || idleMs;
    timer = setTimeout(reset, ms);
  }
  function reset() {
    clearTimeout(timer);
    stopRetry();
    if (camera) camera.stop();
    result.innerHTML = "";
    start.hidden = false;
    notice.hidden = true;
    if (lang !== defaultLang || langChosen || startStale) {
      startStale = false;
      applyLang(defaultLang);
      htmx.ajax("GET", root.dataset.startUrl, { target: "#kiosk-start", swap: "innerHTML" });
    }
    langChosen = false;
    var input = codeInput();
    if (input) input.value = "";
    focusCode();
    startScanning();
  }
  function focusCode() {
    var input = codeInput();
    if (input && onStart() && document.activeElement !== input) input.focus({ preventScroll: true });
  }
  document.addEventListener("click", function (e) {
    if (!e.target.closest("input, select, textarea, button")) focusCode();
  });
  setInterval(focusCode, 1000);
  ["pointerdown", "keydown", "input"].forEach(function (type) {
    document.addEventListener(type, function () { if (!onStart()) arm(); }, true);
  });
  document.body.addEventListener("click", function (e) {
    var restart = e.target.closest("[data-action=restart]");
    if (restart) reset();
  });

  document.body.addEventListener("htmx:afterSwap", function (e) {
    // An answer replaced the step that was being retried: it went through. (htmx tells
    // a form swapped out of the page nothing more, so its afterRequest never arrives.)
    if (pending && !document.body.contains(pending)) {
      stopRetry();
      if (!socketDown) showOffline(false);
    }
    if (e.target === start) {
      focusCode();
      if (onStart()) startScanning();
      return;
    }
    if (e.target !== result) return;
    if (onStart()) { reset(); return; }
    start.hidden = true;
    if (camera) camera.stop();
    var screen = current();
    if (screen && screen.dataset.outcome === "welcome") recent[screen.dataset.visitId] = Date.now();
    // A screen may answer in another language (goodbye: the one the visitor checked in with).
    if (screen && screen.dataset.lang && screen.dataset.lang !== lang) applyLang(screen.dataset.lang);
    var first = result.querySelector("[autofocus], input[type=text]:not([hidden]), input[type=search]");
    if (first) first.focus({ preventScroll: true });
    arm();
  });
  // After settling htmx has wired the new fragment's forms: steps may submit them now.
  document.body.addEventListener("htmx:afterSettle", function (e) {
    if (e.target === result && result.querySelector("#photo-camera")) photoStep();
  });

  // ---- scanning: wedge scanner and camera; the same code twice within 4 s counts once
  // (a retry after a network failure is not a second scan: it goes through).
  document.body.addEventListener("htmx:beforeRequest", function (e) {
    var form = scanForm();
    if (e.detail.elt !== form || pending === form) return;
    var code = (codeInput().value || "").trim();
    if (!code || (code === lastCode.text && Date.now() - lastCode.at < DEDUPE_MS)) {
      e.preventDefault();
      codeInput().value = "";
    }
  });
  document.body.addEventListener("htmx:afterRequest", function (e) {
    if (e.detail.elt === scanForm() && e.detail.successful) {
      lastCode = { text: (codeInput().value || "").trim(), at: Date.now() };
      codeInput().value = "";
    }
  });
  // A scan on any other screen (the last visitor's welcome, a refusal, a half-typed
  // lookup) is the next visitor: the start screen is hidden there, so the wedge's keys
  // would land on the step's field or nowhere. A burst of keys ending in Enter is a scan
  // when no text field has focus, or when it came scanner-fast (a person types slower);
  // then the field gets back what it held before the burst.
  // Codes are 22+ characters (128 random bits); in a field, a shorter burst is typing.
  // Scanner-fast is judged on the burst's mean gap between keys, not each gap: a busy
  // tablet (or USB) may stall one key for 100 ms in the middle of a scan, while a person
  // never keeps 16 keys at 60 ms apart. A pause of a second starts a new burst.
  var SCAN_KEY_GAP_MS = 60, SCAN_MIN_CHARS = 8, SCAN_MIN_CHARS_IN_FIELD = 16;
  var BURST_PAUSE_MS = 1000;
  var burst = { text: "", at: 0, start: 0, field: null, before: "" };
  function isTextField(el) {
    return !!el && (el.tagName === "TEXTAREA" ||
      (el.tagName === "INPUT" && /^(text|search|tel|email|number|)$/.test(el.type || "")));
  }
  function scanNow(code) {
    clearTimeout(timer);
    stopRetry();
    if (camera) camera.stop();
    notice.hidden = true;
    if (lang !== defaultLang || langChosen) startStale = true;
    applyLang(defaultLang);  // a new visitor: the kiosk's language until they choose
    langChosen = false;
    codeInput().value = code;
    htmx.trigger(scanForm(), "submit");
  }
  // Enter in the walk-in's host search picks nothing and must not send the form (the
  // visitor chooses from the suggestions).
  document.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && e.target instanceof Element && e.target.id === "walk-in-host_q") {
      e.preventDefault();
    }
  });
  var startStale = false;
  document.addEventListener("keydown", function (e) {
    if (onStart() || e.ctrlKey || e.altKey || e.metaKey) return;
    var field = isTextField(e.target) ? e.target : null;
    var now = Date.now();
    if (e.key === "Enter") {
      var code = burst.text.trim();
      var fast = burst.text.length > 1 &&
        (burst.at - burst.start) / (burst.text.length - 1) <= SCAN_KEY_GAP_MS &&
        now - burst.at <= BURST_PAUSE_MS;
      var scanned = burst.field === field && (field
        ? fast && code.length >= SCAN_MIN_CHARS_IN_FIELD : code.length >= SCAN_MIN_CHARS);
      if (scanned) {
        e.preventDefault();
        e.stopPropagation();
        if (field) field.value = burst.before;
      }
      burst = { text: "", at: 0, start: 0, field: null, before: "" };
      if (scanned) scanNow(code);
      return;
    }
    if (e.key.length !== 1) return;
    if (burst.text && (burst.field !== field || now - burst.at > BURST_PAUSE_MS)) burst.text = "";
    if (!burst.text) {
      burst = { text: "", at: now, start: now, field: field, before: field ? field.value : "" };
    }
    burst.text += e.key;
    burst.at = now;
  }, true);

  function startScanning() {
    var video = document.getElementById("kiosk-camera");
    if (!camera || !video || !onStart()) return;
    camera.available().then(function (yes) {
      if (!yes || !onStart()) return;
      return camera.startScanning(video, function (text) {
        var input = codeInput();
        if (!input || !onStart()) return;
        // A phone still held up after its check-in is not a new scan.
        if (text.trim() === lastCode.text && Date.now() - lastCode.at < CAMERA_REPEAT_MS) return;
        input.value = text;
        htmx.trigger(scanForm(), "submit");
      }).then(function () { video.hidden = false; });
    }).catch(function () { video.hidden = true; });
  }

  // ---- the photo step -------------------------------------------------------------
  function photoStep() {
    var form = document.getElementById("photo-form");
    var video = document.getElementById("photo-camera");
    var skip = form.querySelector("[data-action=skip-photo]");
    var take = form.querySelector("[data-action=take-photo]");
    function skipIt() { skip.click(); }
    if (!camera) { skipIt(); return; }
    camera.available().then(function (yes) {
      if (!yes) { skipIt(); return; }
      return camera.startPreview(video);
    }).catch(skipIt);
    take.addEventListener("click", function () {
      take.disabled = true;
      camera.takePhoto(video).then(function (blob) {
        var reader = new FileReader();
        reader.onload = function () {
          form.querySelector("[name=photo_data]").value = reader.result;
          var preview = document.getElementById("photo-preview");
          preview.src = reader.result;
          preview.hidden = false;
          video.hidden = true;
          camera.stop();
          htmx.trigger(form, "submit");
        };
        reader.readAsDataURL(blob);
      }).catch(function () { take.disabled = false; });
    });
  }

  // ---- offline: say so, retry the same request, recover by itself --------------------
  function showOffline(yes) { offline.hidden = !yes; root.classList.toggle("is-offline", yes); }
  function stopRetry() { clearTimeout(retryTimer); pending = null; }
  function retry() {
    var elt = pending;
    if (!elt || !document.body.contains(elt)) { stopRetry(); showOffline(false); arm(); return; }
    htmx.trigger(elt, elt.tagName === "FORM" ? "submit" : "click");
  }
  function failed(e) {
    var elt = e.detail.elt;
    // Steps are forms and buttons: those are sent again. A search-as-you-type field
    // just asks again on the next keystroke, and must not take a step's place.
    if (!elt || !(elt.tagName === "FORM" || elt.tagName === "BUTTON")) {
      showOffline(true);
      return;
    }
    pending = elt;
    clearTimeout(timer); // the visitor is waiting on us: no idle reset while retrying
    showOffline(true);
    clearTimeout(retryTimer);
    retryTimer = setTimeout(retry, 2000);
  }
  document.body.addEventListener("htmx:sendError", failed);
  document.body.addEventListener("htmx:responseError", function (e) {
    if (e.detail.xhr && e.detail.xhr.status >= 500) failed(e);
  });
  document.body.addEventListener("htmx:afterRequest", function (e) {
    if (e.detail.successful) {
      var elt = e.detail.elt;
      // The step went through (its form, or the button in it, answered).
      if (pending && elt && (elt === pending || elt.contains(pending) || pending.contains(elt))) {
        stopRetry();
      }
      if (!socketDown && !pending) showOffline(false);
    }
  });

  // ---- live: "on my way" and the badge -----------------------------------------------
  var recent = {}; // visit id -> welcomed at: an answer after the reset still shows
  var noticeTimer = null;
  function onTheWay(ev) {
    var hostName = (ev.host && ev.host.name) || "";
    var welcome = result.querySelector("[data-outcome=welcome][data-visit-id='" + Number(ev.visit_id) + "']");
    if (welcome) {
      var line = welcome.querySelector(".on-the-way");
      line.textContent = line.dataset.text.replace("{host}", hostName);
      line.hidden = false;
      arm(); // give the visitor time to read it
      return;
    }
    var at = recent[ev.visit_id];
    if (!at || Date.now() - at > 10 * 60 * 1000) return;
    var template = start.querySelector("[data-on-the-way]");
    notice.textContent = ((ev.visitor && ev.visitor.name) || "") + " · " +
      (template ? template.dataset.onTheWay.replace("{host}", hostName) : hostName);
    notice.hidden = false;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(function () { notice.hidden = true; }, 15000);
  }
  function badgeStatus(ev) {
    var welcome = result.querySelector("[data-outcome=welcome][data-visit-id='" + Number(ev.visit_id) + "']");
    if (!welcome) return;
    var line = welcome.querySelector(".badge-state");
    var state = ev.state === "printed" ? "printed" : (ev.state === "printing" ? "printing" : "failed");
    line.dataset.state = ev.state;
    line.textContent = line.dataset[state];
    arm();
  }
  var socketDown = false;
  var downTimer = null;
  if (window.io) {
    var socket = io({ transports: ["websocket", "polling"], reconnectionDelay: 500,
                      reconnectionDelayMax: 3000 });
    socket.on("visit_updated", function (ev) { if (ev && ev.change === "acknowledged") onTheWay(ev); });
    socket.on("badge_status", function (ev) { if (ev) badgeStatus(ev); });
    socket.on("connect", function () {
      clearTimeout(downTimer);
      socketDown = false;
      if (!pending) showOffline(false);
    });
    function down() {
      clearTimeout(downTimer);
      downTimer = setTimeout(function () { socketDown = true; showOffline(true); }, 1500);
    }
    socket.on("disconnect", function (reason) {
      down();
      if (reason === "io server disconnect") setTimeout(function () { socket.connect(); }, 1000);
    });
    socket.on("connect_error", down);
    window.lobbyKiosk = { socket: socket };
  }
  window.lobbyKiosk = window.lobbyKiosk || {};
  window.lobbyKiosk.reset = reset;
  window.lobbyKiosk.lang = function () { return lang; };

  if (!onStart()) { start.hidden = true; arm(); }
  focusCode();
  startScanning();
})();
