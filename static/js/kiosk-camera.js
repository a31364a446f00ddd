// Kiosk camera: scan invitation QR codes and take a visitor photo with the kiosk's
// camera. Plain script, no build step; needs /static/vendor/qr-scanner-1.4.2.umd.min.js
// loaded before it for scanning (the photo part works without it).
//
//   lobbyCamera.available()                -> Promise<boolean>
//   lobbyCamera.startScanning(video, onCode) -> Promise<void>; onCode(text) per new code
//   lobbyCamera.startPreview(video)        -> Promise<void>; camera on, no decoding
//   lobbyCamera.takePhoto(video)           -> Promise<Blob> (image/jpeg, long side <= 640)
//   lobbyCamera.stop()                     -> releases the camera (and the decoder worker)
//
// One camera user at a time: startScanning and startPreview first stop whatever runs.
// startPreview opens its own plain stream (no QR worker, no decoding). takePhoto reads the
// current frame of any playing video, so it also works while scanning.
// The QR decoder (qr-scanner's worker, 44 KB) is fetched only when scanning starts: the
// library import()s it relative to its own URL, /static/vendor/. If startScanning
// rejects (no camera, permission denied), the kiosk keeps its keyboard-wedge input.
// This module never writes scanned text or anything else into the DOM.
(function () {
  "use strict";

  var REPEAT_MS = 5000;      // the same text seen again within this is the same scan
  var PHOTO_MAX = 640;       // px, long side of a photo
  var PHOTO_QUALITY = 0.85;

  var scanner = null;        // the QrScanner while scanning
  var stream = null;         // our own MediaStream while previewing
  var video = null;          // the <video> the camera is shown in
  var generation = 0;        // bumped by stop(): a start still pending learns it lost

  function hasMedia() {
    return !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
  }

  function asError(reason) {
    return reason instanceof Error ? reason : new Error(String(reason || "camera unavailable"));
  }

  function stopTracks(s) {
    if (s && typeof s.getTracks === "function") {
      s.getTracks().forEach(function (track) { track.stop(); });
    }
  }

  function available() {
    if (!hasMedia()) return Promise.resolve(false);
    var check = window.QrScanner ? window.QrScanner.hasCamera() :
      navigator.mediaDevices.enumerateDevices().then(function (devices) {
        return devices.some(function (d) { return d.kind === "videoinput"; });
      });
    return Promise.resolve(check).then(function (yes) { return !!yes; },
                                       function () { return false; });
  }

  function stop() {
    generation += 1;
    if (scanner) {
      var s = scanner;
      scanner = null;
      s.pause(true);   // stops the stream now (plain stop() waits 300 ms)
      s.destroy();     // listeners off, worker closed
    }
    if (stream) { stopTracks(stream); stream = null; }
    if (video) {
      if (video.srcObject) { stopTracks(video.srcObject); video.srcObject = null; }
      video = null;
    }
  }

  function startScanning(videoEl, onCode) {
    stop();
    if (!hasMedia() || !window.QrScanner) {
      return Promise.reject(new Error("no camera"));
    }
    var mine = generation;
    var lastText = null;
    var lastSeen = 0;
    // Sliding window: a code held in front of the camera counts once; it counts again
    // after it has been out of sight (or another code was read) for REPEAT_MS.
    function decoded(result) {
      if (mine !== generation) return;  // a frame still in the worker when stop() came
      var text = result && typeof result.data === "string" ? result.data : "";
      var now = Date.now();
      var repeat = text === lastText && now - lastSeen < REPEAT_MS;
      lastText = text;
      lastSeen = now;
      if (!text || repeat) return;
      try {
        onCode(text);
      } catch (err) {  // a failing caller must not stop the scan loop
        setTimeout(function () { throw err; }, 0);
      }
    }
    var qr = new window.QrScanner(videoEl, decoded, {
      returnDetailedScanResult: true,
      preferredCamera: "user",       // a kiosk's camera faces the visitor; any camera else
      maxScansPerSecond: 10,
      onDecodeError: function () {}  // "no QR code found" on most frames: not an error
    });
    scanner = qr;
    video = videoEl;
    return qr.start().then(function () {
      if (mine !== generation) throw new Error("stopped");
    }, function (reason) {
      if (mine === generation) stop();
      throw asError(reason);
    });
  }

  function startPreview(videoEl) {
    stop();
    if (!hasMedia()) return Promise.reject(new Error("no camera"));
    var mine = generation;
    video = videoEl;
    return navigator.mediaDevices.getUserMedia({
      audio: false,
      video: { facingMode: "user", width: { ideal: 1280 }, height: { ideal: 720 } }
    }).then(function (s) {
      if (mine !== generation) { stopTracks(s); throw new Error("stopped"); }
      stream = s;
      videoEl.muted = true;
      videoEl.playsInline = true;
      videoEl.srcObject = s;
      return videoEl.play();
    }).then(function () {
      if (mine !== generation) throw new Error("stopped");
    }, function (reason) {
      if (mine === generation) stop();
      throw asError(reason);
    });
  }

  function takePhoto(videoEl) {
    return new Promise(function (resolve, reject) {
      var w = videoEl.videoWidth;
      var h = videoEl.videoHeight;
      if (!w || !h || videoEl.readyState < 2) {
        reject(new Error("no video frame"));
        return;
      }
      var scale = Math.min(1, PHOTO_MAX / Math.max(w, h));
      var canvas = document.createElement("canvas");  // never attached to the page
      canvas.width = Math.round(w * scale);
      canvas.height = Math.round(h * scale);
      // The raw frame: unmirrored even if the preview is shown mirrored.
      canvas.getContext("2d").drawImage(videoEl, 0, 0, canvas.width, canvas.height);
      canvas.toBlob(function (blob) {
        if (blob) resolve(blob); else reject(new Error("photo failed"));
      }, "image/jpeg", PHOTO_QUALITY);
    });
  }

  window.lobbyCamera = {
    available: available,
    startScanning: startScanning,
    startPreview: startPreview,
    takePhoto: takePhoto,
    stop: stop
  };
})();
