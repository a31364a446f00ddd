// Signing the site rules on the kiosk's touchscreen: a small signature pad, no library.
//
// Whenever a rules screen (canvas.signature-pad inside #rules-form) is swapped into
// #kiosk-result, the canvas takes pointer events (finger, pen or mouse), draws smooth
// strokes (quadratic curves through the midpoints of the sampled points, coalesced
// events included) at the screen's devicePixelRatio, and redraws them when the canvas
// changes size (a rotated screen). "I accept and sign" is enabled once there is ink;
// "Clear" starts over. When the form is sent, the drawing goes into the hidden
// `signature` field as a PNG data URL (scaled down to at most 1200 px wide), and the
// button pressed into `choice`, so a retried request (offline) sends the same.
(function () {
  "use strict";
  var MAX_EXPORT_WIDTH = 1200;
  var MIN_INK_LENGTH = 40; // CSS px of stroke before it counts as a signature
  var MIN_INK_SPAN = 20;

  function Pad(canvas, onChange) {
    var strokes = [];
    var current = null;
    var ctx = canvas.getContext("2d");
    var dpr = 1;

    function size() {
      var rect = canvas.getBoundingClientRect();
      dpr = window.devicePixelRatio || 1;
      var w = Math.max(1, Math.round(rect.width * dpr));
      var h = Math.max(1, Math.round(rect.height * dpr));
      if (canvas.width !== w || canvas.height !== h) {
        canvas.width = w;
        canvas.height = h;
        redraw();
      }
    }
    function style() {
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.lineWidth = 3.2;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.strokeStyle = "#101828";
      ctx.fillStyle = "#101828";
    }
    function drawStroke(points) {
      if (!points.length) return;
      if (points.length === 1) {
        ctx.beginPath();
        ctx.arc(points[0].x, points[0].y, ctx.lineWidth / 2, 0, Math.PI * 2);
        ctx.fill();
        return;
      }
      ctx.beginPath();
      ctx.moveTo(points[0].x, points[0].y);
      for (var i = 1; i < points.length - 1; i++) {
        var mx = (points[i].x + points[i + 1].x) / 2;
        var my = (points[i].y + points[i + 1].y) / 2;
        ctx.quadraticCurveTo(points[i].x, points[i].y, mx, my);
      }
      var last = points[points.length - 1];
      ctx.lineTo(last.x, last.y);
      ctx.stroke();
    }
    function redraw() {
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      style();
      strokes.forEach(drawStroke);
    }
    function point(e) {
      var rect = canvas.getBoundingClientRect();
      return { x: e.clientX - rect.left, y: e.clientY - rect.top };
    }
    function add(e) {
      var events = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
      if (!events.length) events = [e];
      events.forEach(function (ev) {
        var p = point(ev);
        var prev = current[current.length - 1];
        if (!prev || Math.abs(prev.x - p.x) + Math.abs(prev.y - p.y) >= 1) current.push(p);
      });
    }
    canvas.addEventListener("pointerdown", function (e) {
      if (e.button !== undefined && e.button > 0) return;
      e.preventDefault();
      size();
      if (canvas.setPointerCapture) { try { canvas.setPointerCapture(e.pointerId); } catch (_) {} }
      current = [point(e)];
      strokes.push(current);
      redraw();
    });
    canvas.addEventListener("pointermove", function (e) {
      if (!current) return;
      e.preventDefault();
      add(e);
      redraw();
    });
    function end() {
      if (!current) return;
      current = null;
      redraw();
      onChange();
    }
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    canvas.addEventListener("lostpointercapture", end);
    window.addEventListener("resize", size);

    this.size = size;
    this.clear = function () { strokes = []; current = null; redraw(); onChange(); };
    this.hasInk = function () {
      var length = 0, minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
      strokes.forEach(function (s) {
        for (var i = 0; i < s.length; i++) {
          minX = Math.min(minX, s[i].x); maxX = Math.max(maxX, s[i].x);
          minY = Math.min(minY, s[i].y); maxY = Math.max(maxY, s[i].y);
          if (i) length += Math.hypot(s[i].x - s[i - 1].x, s[i].y - s[i - 1].y);
        }
      });
      return length >= MIN_INK_LENGTH && Math.max(maxX - minX, maxY - minY) >= MIN_INK_SPAN;
    };
    this.toDataURL = function () {
      if (!strokes.length) return "";
      if (canvas.width <= MAX_EXPORT_WIDTH) return canvas.toDataURL("image/png");
      var scale = MAX_EXPORT_WIDTH / canvas.width;
      var out = document.createElement("canvas");
      out.width = MAX_EXPORT_WIDTH;
      out.height = Math.max(1, Math.round(canvas.height * scale));
      out.getContext("2d").drawImage(canvas, 0, 0, out.width, out.height);
      return out.toDataURL("image/png");
    };
    size();
  }

  function attach(root) {
    var form = root.querySelector ? root.querySelector("#rules-form") : null;
    if (!form || form.dataset.signReady) return;
    var canvas = form.querySelector("canvas.signature-pad");
    var accept = form.querySelector("[data-action=accept-rules]");
    var clear = form.querySelector("[data-action=clear-signature]");
    if (!canvas) return;
    form.dataset.signReady = "1";
    var pad = new Pad(canvas, function () {
      accept.disabled = !pad.hasInk();
      form.classList.toggle("has-ink", !accept.disabled);
    });
    form.lobbyPad = pad;
    clear.addEventListener("click", function () { pad.clear(); });
    form.querySelectorAll("button[type=submit]").forEach(function (button) {
      button.addEventListener("click", function () {
        form.querySelector("[name=choice]").value = button.name;
      });
    });
  }

  // Fill the hidden fields before htmx (or the browser) reads the form: a capturing
  // listener on the document runs before the form's own.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form || form.id !== "rules-form" || !form.lobbyPad) return;
    var choice = form.querySelector("[name=choice]");
    if (e.submitter && e.submitter.name) choice.value = e.submitter.name;
    var accepting = choice.value !== "decline";
    form.querySelector("[name=signature]").value =
      accepting && form.lobbyPad.hasInk() ? form.lobbyPad.toDataURL() : "";
  }, true);
  // A sent signature leaves the field: the language switch sends the form's fields in
  // a URL, and a retry fills it again from the canvas.
  document.addEventListener("htmx:afterRequest", function (e) {
    var form = e.detail && e.detail.elt;
    if (form && form.id === "rules-form") form.querySelector("[name=signature]").value = "";
  });
  document.addEventListener("htmx:afterSwap", function (e) {
    if (e.target && e.target.id === "kiosk-result") attach(e.target);
  });
  function onLoad() { var result = document.getElementById("kiosk-result"); if (result) attach(result); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", onLoad);
  else onLoad();
  window.lobbySign = { attach: attach };
})();
