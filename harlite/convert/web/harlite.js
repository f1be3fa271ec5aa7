// harlite on the phone: the C core of `harlite export c`, built to WebAssembly, as
// window.harlite. The module comes from harlite-model.js (base64): nothing is fetched.
//
//   await harlite.ready;
//   harlite.push(t, ax, ay, az, gx, gy, gz)  // seconds, g, rad/s, Android's axes and sign
//     -> the prediction of the window this sample completed, else null
//   harlite.fromMotion(event, convention)    // a devicemotion event -> those seven numbers
//
// A prediction: {window, start_time, end_time, label, confidence, probabilities: {label: p},
// smoothed_label?, smoothed_confidence?, placement?} as `harlite stream` writes it; when one
// sample completes several windows (a held burst), the others come first in `earlier`.
"use strict";

(function () {
  const model = window.HARLITE_MODEL;
  const G = 9.80665; // m/s^2 per g
  const DEG = Math.PI / 180;
  const PLACEMENTS = { auto: 0, pocket: 1, waist: 2 };
  const PLACEMENT_NAMES = [null, "pocket", "waist"];
  const SMOOTHING = { none: 0, mean: 1, vote: 2 };
  const listeners = [];
  let core = null;

  function bytesOf(base64) {
    const text = atob(base64);
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return bytes;
  }

  function labelOf(exports, k) {
    const memory = new Uint8Array(exports.memory.buffer);
    let end = exports.hl_web_label(k);
    const start = end;
    while (memory[end] !== 0) end++;
    return new TextDecoder().decode(memory.subarray(start, end));
  }

  // The windows the last push completed, as `harlite stream` writes them.
  function predictions() {
    const e = core.exports;
    const n = e.hl_web_count();
    if (n === 0) return [];
    const fields = e.hl_web_fields();
    const rows = new Float64Array(e.memory.buffer, e.hl_web_rows(), n * fields);
    const out = [];
    for (let w = 0; w < n; w++) {
      const r = rows.subarray(w * fields, (w + 1) * fields);
      const probabilities = {};
      core.labels.forEach((name, k) => { probabilities[name] = r[8 + k]; });
      const p = {
        window: r[0], start_time: r[1], end_time: r[2], label: core.labels[r[3]],
        confidence: r[4], probabilities,
      };
      if (r[5] >= 0) {
        p.smoothed_label = core.labels[r[5]];
        p.smoothed_confidence = r[6];
      }
      if (PLACEMENT_NAMES[r[7]]) p.placement = PLACEMENT_NAMES[r[7]];
      out.push(p);
    }
    return out;
  }

  const harlite = {
    model,
    labels: model ? model.labels.slice() : [],
    loaded: false,
    error: null,
    settings: { maxGap: 0.25, placement: "auto", smooth: "none", smoothSize: 1 },

    // Start a new stream with these settings ({maxGap, placement, smooth, smoothSize}).
    configure(settings = {}) {
      const s = Object.assign({}, this.settings, settings);
      const code = core.exports.hl_web_init(s.maxGap, PLACEMENTS[s.placement] ?? -1,
        SMOOTHING[s.smooth] ?? -1, s.smoothSize);
      if (code !== 0) throw new Error(`harlite: bad settings ${JSON.stringify(settings)}`);
      this.settings = s;
    },

    // One sample in the canonical CSV's units (seconds, g, rad/s; Android's axes and sign).
    push(t, ax, ay, az, gx, gy, gz) {
      if (!core) throw new Error("harlite: not loaded yet (await harlite.ready)");
      if (core.exports.hl_web_push(t, ax, ay, az, gx, gy, gz) === 0) return null;
      const done = predictions();
      if (done.length === 0) return null;
      const last = done[done.length - 1];
      if (done.length > 1) last.earlier = done.slice(0, -1);
      for (const listener of listeners) for (const p of done) listener(p);
      return last;
    },

    // A devicemotion event as (ax, ay, az, gx, gy, gz) in g and rad/s, Android's sign.
    // accelerationIncludingGravity is m/s^2: Android Chrome reports +9.81 on z for a phone
    // lying screen up (as Android's sensor does), iOS Safari -9.81 (Core Motion's sign):
    // convention "ios" negates it. rotationRate is deg/s, alpha/beta/gamma about z/x/y.
    // null when a value is missing (a phone without a gyroscope gives no rotationRate).
    fromMotion(event, convention) {
      const a = event.accelerationIncludingGravity;
      const r = event.rotationRate;
      if (!a || !r) return null;
      const given = [a.x, a.y, a.z, r.beta, r.gamma, r.alpha];
      if (given.some((v) => typeof v !== "number")) return null; // null * x would be 0
      const sign = convention === "ios" ? -1 : 1;
      return [sign * a.x / G, sign * a.y / G, sign * a.z / G,
        r.beta * DEG, r.gamma * DEG, r.alpha * DEG];
    },

    // Every window classified (also those of pushes made by someone else) goes here.
    onWindow(listener) { listeners.push(listener); },

    // The stream ended: samples still held are refused.
    finish() { core.exports.hl_web_finish(); },
    reset() { core.exports.hl_web_reset(); },

    stats() {
      const e = core.exports;
      const s = new Uint32Array(e.memory.buffer, e.hl_web_stats(), 6);
      return { accepted: s[0], refused_values: s[1], refused_time: s[2], gaps: s[3],
        resyncs: s[4], windows: s[5] };
    },
  };

  harlite.ready = (async () => {
    if (!model || !window.HARLITE_WASM) throw new Error("harlite-model.js is missing");
    const { instance } = await WebAssembly.instantiate(bytesOf(window.HARLITE_WASM), {});
    const labels = [];
    for (let k = 0; k < instance.exports.hl_web_n_labels(); k++) {
      labels.push(labelOf(instance.exports, k));
    }
    core = { exports: instance.exports, labels };
    harlite.configure();
    harlite.loaded = true;
    return harlite;
  })();
  harlite.ready.catch((error) => { harlite.error = String(error); });
  window.harlite = harlite;
})();
