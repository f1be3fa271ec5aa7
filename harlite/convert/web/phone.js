// The phone page: motion sensors into window.harlite, the current activity, its
// probabilities and a timeline; recording labelled samples to a CSV; sending samples to a
// `harlite serve`. Everything shown is set with textContent.
"use strict";

(function () {
  const PALETTE = ["#2463eb", "#e8590c", "#2f9e44", "#c2255c", "#7048e8", "#0c8599",
    "#f08c00", "#5c940d", "#862e9c", "#1098ad", "#d6336c", "#495057"];
  const TIMELINE = 120; // predictions shown
  const MAX_RECORDED = 400000; // samples held for a download (over an hour at 100 Hz)
  const MAX_UNSENT = 20000; // samples waiting to be sent (a slow server: the oldest dropped)
  const SEND_EVERY_MS = 1000;
  const HEADER = "t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z";
  const LABEL_RULE = /^[A-Za-z0-9][A-Za-z0-9_. -]{0,39}$/;
  const harlite = window.harlite;
  const $ = (id) => document.getElementById(id);
  const text = (el, value) => { el.textContent = value == null ? "" : String(value); };
  const ui = { timeline: [], fills: new Map(), windows: 0, seconds: new Map(), lastEnd: null };
  const sensors = { on: false, samples: 0, incomplete: 0, times: [], lastZ: null,
    silentTimer: null };
  const recording = { rows: [], label: null, on: false, started: null };
  const sender = { on: false, queue: [], dropped: 0, sent: 0, header: true, timer: null,
    busy: false, session: null, windows: [], sentWindows: 0 };

  function colour(label) {
    const i = harlite.labels.indexOf(label);
    return i < 0 ? "#adb5bd" : PALETTE[i % PALETTE.length];
  }

  // ---- the result: current activity, bars, timeline --------------------------------------

  function buildResult() {
    const m = harlite.model;
    text($("model"), `model ${m.name} (${m.preset}, ${m.weights}), windows of ` +
      `${(m.window / m.rate_hz).toFixed(2)} s every ${(m.hop / m.rate_hz).toFixed(2)} s, ` +
      "classified on this phone");
    for (const label of harlite.labels) {
      const name = document.createElement("span");
      text(name, label);
      const bar = document.createElement("div");
      bar.className = "bar";
      const fill = document.createElement("div");
      fill.style.background = colour(label);
      bar.append(fill);
      const value = document.createElement("span");
      value.className = "muted";
      $("bars").append(name, bar, value);
      ui.fills.set(label, [fill, value]);
      const item = document.createElement("span");
      const swatch = document.createElement("i");
      swatch.style.background = colour(label);
      item.append(swatch, document.createTextNode(label));
      $("legend").append(item);
      const option = document.createElement("option");
      option.value = label;
      $("known-labels").append(option);
    }
  }

  function duration(seconds) {
    const whole = Math.round(seconds);
    if (whole < 60) return `${whole} s`;
    if (whole < 3600) return `${Math.floor(whole / 60)} min ${whole % 60} s`;
    return `${Math.floor(whole / 3600)} h ${String(Math.floor(whole / 60) % 60).padStart(2, "0")} min`;
  }

  function showPrediction(p) {
    const label = p.smoothed_label || p.label;
    const confidence = p.smoothed_confidence ?? p.confidence;
    text($("current-label"), label);
    $("current-label").style.color = colour(label);
    const place = p.placement ? ` · ${p.placement}` : "";
    text($("current-confidence"), `${(confidence * 100).toFixed(0)}% · window ${p.window}${place}`);
    for (const [name, [fill, value]] of ui.fills) {
      const probability = p.probabilities[name] || 0;
      fill.style.width = `${(probability * 100).toFixed(1)}%`;
      text(value, `${(probability * 100).toFixed(0)}%`);
    }
    // time per activity: each window counts from the previous window's end
    const from = ui.lastEnd != null && p.start_time < ui.lastEnd ? ui.lastEnd : p.start_time;
    ui.seconds.set(label, (ui.seconds.get(label) || 0) + Math.max(0, p.end_time - from));
    ui.lastEnd = p.end_time;
    text($("totals"), [...ui.seconds].map(([name, s]) => `${name} ${duration(s)}`).join(" · "));
    ui.windows++;
    text($("windows"), ui.windows.toLocaleString());
    ui.timeline.push(label);
    if (ui.timeline.length > TIMELINE) ui.timeline.shift();
    drawTimeline();
  }

  function drawTimeline() {
    const canvas = $("timeline");
    const context = canvas.getContext("2d");
    const width = canvas.width / TIMELINE;
    context.clearRect(0, 0, canvas.width, canvas.height);
    const start = TIMELINE - ui.timeline.length;
    ui.timeline.forEach((label, i) => {
      context.fillStyle = colour(label);
      context.fillRect((start + i) * width, 0, Math.max(width - 1, 1), canvas.height);
    });
  }

  // ---- the sensors ------------------------------------------------------------------------

  function isIOS() {
    return /iPad|iPhone|iPod/.test(navigator.userAgent) ||
      (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);
  }

  function convention() {
    const chosen = $("convention").value;
    return chosen === "auto" ? (isIOS() ? "ios" : "android") : chosen;
  }

  // One devicemotion event: the same entry as window.harlite.push (t in seconds).
  function onMotion(event) {
    const values = harlite.fromMotion(event, convention());
    if (!values) { sensors.incomplete++; return; }
    const t = event.timeStamp / 1000;
    sensors.samples++;
    sensors.lastZ = values[2];
    sensors.times.push(t);
    if (sensors.times.length > 50) sensors.times.shift();
    const wall = performance.timeOrigin / 1000 + t; // epoch seconds for files and servers
    if (recording.on) record(wall, values);
    if (sender.on) queue(wall, values);
    harlite.push(t, ...values);
  }

  function showSensors() {
    text($("samples"), sensors.samples.toLocaleString());
    const n = sensors.times.length;
    if (n > 1) {
      const span = sensors.times[n - 1] - sensors.times[0];
      if (span > 0) text($("rate"), `${((n - 1) / span).toFixed(1)} Hz`);
    }
    if (harlite.loaded) {
      const s = harlite.stats();
      text($("refused"), (s.refused_values + s.refused_time).toLocaleString() +
        (s.gaps ? ` · ${s.gaps} gaps` : ""));
    }
    if (sensors.lastZ != null) {
      text($("check"), `z now ${sensors.lastZ >= 0 ? "+" : ""}${sensors.lastZ.toFixed(2)} g ` +
        `(${convention()} sign; screen up reads +1)`);
    }
  }

  async function startSensors() {
    const status = $("sensor-status");
    if (!window.isSecureContext) {
      text(status, "this page is not secure (http): the browser gives motion sensors only to " +
        "https pages or a page saved on the phone (harlite serve --tls)");
      status.classList.add("bad");
      return;
    }
    if (typeof DeviceMotionEvent === "undefined") {
      text(status, "this browser has no motion sensors (DeviceMotionEvent)");
      return;
    }
    if (typeof DeviceMotionEvent.requestPermission === "function") {
      try { // iOS: asked from this tap
        const answer = await DeviceMotionEvent.requestPermission();
        if (answer !== "granted") {
          text(status, `motion access was ${answer}: allow it in Settings › Safari › ` +
            "Motion & Orientation Access, then reload");
          return;
        }
      } catch (error) {
        text(status, `motion access failed: ${error}`);
        return;
      }
    }
    harlite.reset();
    window.addEventListener("devicemotion", onMotion);
    sensors.on = true;
    text(status, "listening…");
    status.classList.remove("bad");
    $("start").disabled = true;
    $("stop").disabled = false;
    const before = sensors.samples;
    sensors.silentTimer = setTimeout(() => {
      if (sensors.on && sensors.samples === before) {
        text(status, sensors.incomplete ? "motion events come without a rotation rate or " +
          "acceleration (no gyroscope?): the model needs both"
          : "no motion events in 3 s: this device or browser gives none");
        status.classList.add("bad");
      }
    }, 3000);
  }

  function stopSensors() {
    window.removeEventListener("devicemotion", onMotion);
    clearTimeout(sensors.silentTimer);
    sensors.on = false;
    harlite.finish();
    text($("sensor-status"), "stopped");
    $("start").disabled = false;
    $("stop").disabled = true;
  }

  // ---- recording labelled samples ---------------------------------------------------------

  function number(v) { return Number.isInteger(v) ? String(v) : v.toPrecision(7); }

  function record(wall, values) {
    if (recording.rows.length >= MAX_RECORDED) {
      stopRecording(`stopped: ${MAX_RECORDED.toLocaleString()} samples is the most kept; ` +
        "download them");
      return;
    }
    recording.rows.push(`${wall.toFixed(6)},${values.map(number).join(",")},${recording.label}`);
  }

  function startRecording(event) {
    event.preventDefault();
    const label = $("record-label").value.trim();
    if (!LABEL_RULE.test(label)) {
      text($("record-status"), "an activity is letters, digits, space, _ . - (40 at most)");
      return;
    }
    recording.label = label;
    recording.on = true;
    recording.started = recording.started || new Date();
    document.body.classList.add("is-recording");
    $("record-start").disabled = true;
    $("record-stop").disabled = false;
    text($("record-status"), sensors.on ? `recording ${label}…`
      : `recording ${label} once the sensors start`);
  }

  function stopRecording(why) {
    recording.on = false;
    document.body.classList.remove("is-recording");
    $("record-start").disabled = false;
    $("record-stop").disabled = true;
    $("record-save").disabled = $("record-clear").disabled = recording.rows.length === 0;
    text($("record-status"), (why ? `${why}; ` : "") +
      `${recording.rows.length.toLocaleString()} samples to download`);
  }

  // A recordings-folder CSV (docs/own-data.md): seconds, g, rad/s and a label per row;
  // named sNN_STAMP_phone.csv so the folder's reader finds the subject.
  function saveRecording() {
    const subject = $("record-subject").value.trim();
    if (!/^[0-9]{0,4}$/.test(subject)) { // the folder's reader takes sNN_ names only
      text($("record-status"), "the subject is a number (up to 4 digits), or left empty");
      return;
    }
    const stamp = recording.started.toISOString().replace(/[-:]/g, "").replace(/\..*/, "");
    const name = `${subject ? `s${subject.padStart(2, "0")}_` : ""}${stamp}_phone.csv`;
    const blob = new Blob([`${HEADER},label\n`, recording.rows.join("\n"), "\n"],
      { type: "text/csv" });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = name;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    text($("record-status"), `saved ${name} (${recording.rows.length.toLocaleString()} samples)`);
  }

  function clearRecording() {
    recording.rows = [];
    recording.started = null;
    stopRecording("cleared");
  }

  // ---- sending to harlite serve (POST /push, text/csv) ------------------------------------

  function queue(wall, values) {
    if (sender.queue.length >= MAX_UNSENT) { sender.queue.shift(); sender.dropped++; }
    sender.queue.push(`${wall.toFixed(6)},${values.map(number).join(",")}`);
  }

  // The page's own windows go too, on the samples' clock (epoch seconds), for the server to
  // show and compare with its own classification of the same samples.
  function queueWindow(p) {
    if (!sender.on) return;
    if (sender.windows.length >= 1000) sender.windows.shift();
    const wall = performance.timeOrigin / 1000;
    const sent = { start_time: wall + p.start_time, end_time: wall + p.end_time,
      label: p.label, confidence: p.confidence };
    if (p.placement) sent.placement = p.placement;
    sender.windows.push(sent);
  }

  function pushUrl(path) {
    const base = $("push-url").value.trim().replace(/\/+$/, "");
    const device = $("push-device").value.trim() || "phone page";
    return `${base}${path}?device=${encodeURIComponent(device)}&session=${sender.session}`;
  }

  async function post(path, type, body) {
    const headers = { "Content-Type": type };
    const token = $("push-token").value;
    if (token) headers.Authorization = `Bearer ${token}`;
    // the page's own server only (startSending): its cookie carries the token once the
    // page was opened with ?token= and the field is empty (after a reload)
    const response = await fetch(pushUrl(path), { method: "POST", headers, body,
      credentials: "same-origin", cache: "no-store" });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(answer.error || `HTTP ${response.status}`);
  }

  // Samples first (the server classifies them), then the page's windows; what could not
  // be sent waits for the next turn (the oldest dropped beyond the bounds, counted).
  async function sendQueued() {
    if (sender.busy || !(sender.queue.length || sender.windows.length)) return;
    sender.busy = true;
    const status = $("push-status");
    try {
      if (sender.queue.length) await sendSamples();
      if (sender.windows.length) await sendWindows();
      text(status, `sent ${sender.sent.toLocaleString()} samples, ` +
        `${sender.sentWindows.toLocaleString()} windows` +
        (sender.dropped ? ` (${sender.dropped} samples dropped while the server was slow)` : ""));
      status.classList.remove("bad");
    } catch (error) {
      text(status, `not sent: ${error.message || error} (trying again)`);
      status.classList.add("bad");
    } finally {
      sender.busy = false;
    }
  }

  async function sendSamples() {
    const lines = sender.queue.splice(0, sender.queue.length);
    const body = (sender.header ? `${HEADER}\n` : "") + lines.join("\n") + "\n";
    try {
      await post("/push", "text/csv", body);
    } catch (error) {
      const room = Math.max(0, MAX_UNSENT - sender.queue.length);
      const kept = lines.slice(Math.max(0, lines.length - room));
      sender.dropped += lines.length - kept.length;
      sender.queue.unshift(...kept);
      throw error;
    }
    sender.header = false;
    sender.sent += lines.length;
  }

  async function sendWindows() {
    const windows = sender.windows.splice(0, sender.windows.length);
    try {
      await post("/push/predictions", "application/json", JSON.stringify({ predictions: windows }));
    } catch (error) {
      const room = Math.max(0, 1000 - sender.windows.length);
      sender.windows.unshift(...windows.slice(Math.max(0, windows.length - room)));
      throw error;
    }
    sender.sentWindows += windows.length;
  }

  function startSending(event) {
    event.preventDefault();
    let target;
    try {
      target = new URL($("push-url").value.trim());
    } catch (error) {
      target = null;
    }
    if (!target || !target.protocol.startsWith("http")) {
      text($("push-status"), "the server is an http:// or https:// address");
      return;
    }
    if (target.origin !== location.origin) { // its cross-site check would refuse every push
      text($("push-status"), "a harlite serve takes samples only from its own page: open " +
        `this page as ${target.origin}/phone/`);
      return;
    }
    sender.on = true;
    sender.header = true;
    sender.queue = []; // what a stopped sending left unsent belongs to its own session
    sender.windows = [];
    if (harlite.loaded) harlite.reset(); // the server's windows start with the page's
    sender.session = `page-${Date.now().toString(36)}`;
    sender.timer = setInterval(sendQueued, SEND_EVERY_MS);
    $("push-start").disabled = true;
    $("push-stop").disabled = false;
    text($("push-status"), "sending…");
  }

  function stopSending() {
    sender.on = false;
    clearInterval(sender.timer);
    sendQueued();
    $("push-start").disabled = false;
    $("push-stop").disabled = true;
  }

  // ---- wiring -----------------------------------------------------------------------------

  function wire() {
    $("start").addEventListener("click", startSensors);
    $("stop").addEventListener("click", stopSensors);
    $("recorder").addEventListener("submit", startRecording);
    $("record-stop").addEventListener("click", () => stopRecording());
    $("record-save").addEventListener("click", saveRecording);
    $("record-clear").addEventListener("click", clearRecording);
    $("pusher").addEventListener("submit", startSending);
    $("push-stop").addEventListener("click", stopSending);
    $("convention").options[0].textContent = `auto (${isIOS() ? "iOS" : "Android"})`;
    if (location.protocol.startsWith("http")) $("push-url").value = location.origin;
    const token = new URLSearchParams(location.search).get("token");
    if (token) { // from harlite serve's /phone?token=…: keep it out of the history
      $("push-token").value = token;
      history.replaceState(null, "", location.pathname);
    }
    setInterval(showSensors, 500);
  }

  // Offline from the home screen: the browser keeps the page's files (sw.js). Only over
  // https with a certificate the phone trusts (or on this machine); elsewhere the page stays
  // online-only.
  function keepOffline() {
    const local = ["localhost", "127.0.0.1", "[::1]"].includes(location.hostname);
    if (!("serviceWorker" in navigator) || !(location.protocol === "https:" || local)) return;
    navigator.serviceWorker.register("sw.js", { scope: "./" }).catch(() => {});
  }

  wire();
  keepOffline();
  harlite.ready.then(() => {
    buildResult();
    harlite.onWindow(showPrediction);
    harlite.onWindow(queueWindow);
  }, (error) => {
    text($("model"), `the model did not load: ${error}`);
    $("model").classList.add("bad");
  });
})();
