// harlite live page: one panel per phone, fed by /api/events (Server-Sent Events).
// Everything from the server is shown with textContent: nothing it sends becomes markup.
"use strict";

const PALETTE = ["#2463eb", "#e8590c", "#2f9e44", "#c2255c", "#7048e8", "#0c8599",
  "#f08c00", "#5c940d", "#862e9c", "#1098ad", "#d6336c", "#495057"];
const TIMELINE = 120; // predictions shown per phone
const state = { labels: [], panels: new Map(), recording: false };

function $(root, selector) { return root.querySelector(selector); }
function text(el, value) { el.textContent = value == null ? "" : String(value); }

function colour(label) {
  const i = state.labels.indexOf(label);
  return i < 0 ? "#adb5bd" : PALETTE[i % PALETTE.length];
}

function showModel(model, recordingEnabled) {
  state.labels = model.labels;
  state.recording = recordingEnabled;
  text(document.getElementById("model"),
    `model ${model.name} (${model.artifact}), windows of ${model.window_s.toFixed(2)} s every ${model.hop_s.toFixed(2)} s`);
  const list = document.getElementById("known-labels");
  list.replaceChildren(...model.labels.map((name) => {
    const option = document.createElement("option");
    option.value = name;
    return option;
  }));
}

function showServer(s) {
  state.server = s;
  refreshServerLine();
}

function refreshServerLine() {
  const s = state.server;
  if (!s) return;
  const live = [...state.panels.values()].filter((p) => !p.node.classList.contains("is-ended")).length;
  text(document.getElementById("server"),
    `${live} live · bad requests ${s.bad_requests} · refused sessions ${s.refused_sessions}`);
}

function panelFor(session) {
  let panel = state.panels.get(session.id);
  if (panel) return panel;
  const node = document.getElementById("panel-template").content.firstElementChild.cloneNode(true);
  node.dataset.session = session.id;
  const bars = $(node, ".bars");
  const fills = new Map();
  for (const label of state.labels) {
    const name = document.createElement("span");
    text(name, label);
    const bar = document.createElement("div");
    bar.className = "bar";
    const fill = document.createElement("div");
    fill.style.background = colour(label);
    bar.append(fill);
    const value = document.createElement("span");
    value.className = "muted";
    bars.append(name, bar, value);
    fills.set(label, [fill, value]);
  }
  const legend = $(node, ".legend");
  for (const label of state.labels) {
    const item = document.createElement("span");
    const swatch = document.createElement("i");
    swatch.style.background = colour(label);
    item.append(swatch, document.createTextNode(label));
    legend.append(item);
  }
  panel = { node, fills, timeline: [] };
  wireRecorder(panel, session.id);
  state.panels.set(session.id, panel);
  document.getElementById("sessions").append(node);
  document.getElementById("empty").hidden = true;
  return panel;
}

// Seconds as "3 min 28 s" (time per activity), as the terminal's summary says it.
function duration(seconds) {
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole} s`;
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${whole % 60} s`;
  return `${Math.floor(whole / 3600)} h ${String(Math.floor(whole / 60) % 60).padStart(2, "0")} min`;
}

function showSession(session, ended = false) {
  const panel = panelFor(session);
  const n = panel.node;
  text($(n, ".device"), session.device || "(no device id)");
  text($(n, ".source"), `${session.source} · ${session.platform}`);
  text($(n, ".rate"), session.input_rate_hz ? `${session.input_rate_hz.toFixed(1)} Hz` : "–");
  text($(n, ".samples"), session.samples.toLocaleString());
  text($(n, ".windows"), session.windows.toLocaleString());
  text($(n, ".bad-rows"), session.bad_rows.toLocaleString());
  text($(n, ".pushes"), session.pushes.toLocaleString());
  text($(n, ".messages"), `${session.duplicates} / ${session.missing_messages}`);
  text($(n, ".warning-count"), session.warnings.length);
  text($(n, ".totals"), Object.entries(session.time_per_label || {})
    .map(([label, seconds]) => `${label} ${duration(seconds)}`).join(" · "));
  const phone = session.on_phone;
  $(n, ".on-phone").hidden = !phone;
  if (phone) {  // what the phone page classified itself, beside this server's windows
    text($(n, ".on-phone"), `on the phone: ${phone.last.label} ` +
      `${(phone.last.confidence * 100).toFixed(0)}% · ${phone.windows} windows, ` +
      `${phone.agreeing}/${phone.compared} of the recent ones as here`);
  }
  $(n, ".warnings").replaceChildren(...session.warnings.map((w) => {
    const li = document.createElement("li");
    text(li, w);
    return li;
  }));
  $(n, ".ended").hidden = !ended;
  n.classList.toggle("is-ended", ended);
  const recording = session.recording;
  n.classList.toggle("is-recording", Boolean(recording));
  $(n, ".record-start").disabled = ended || Boolean(recording) || !state.recording;
  $(n, ".record-stop").disabled = ended || !recording;
  const status = $(n, ".record-status");
  if (!state.recording) {
    text(status, "recording is off (start the server with --record-dir DIR)");
  } else if (recording) {
    text(status, `recording ${recording.label}: ${recording.duration_s.toFixed(1)} s, ${recording.samples} samples`);
  } else if (session.recording_error) {
    text(status, `recording stopped: ${session.recording_error}`);
  } else if (session.recordings.length) {
    const last = session.recordings[session.recordings.length - 1];
    text(status, `saved ${last.file} (${last.duration_s.toFixed(1)} s)`);
  }
  if (session.last && panel.timeline.length === 0) showPrediction(session.last);
  refreshServerLine();
}

function showPrediction(p) {
  const panel = state.panels.get(p.session);
  if (!panel) return;
  const label = p.smoothed_label || p.label;
  const confidence = p.smoothed_confidence ?? p.confidence;
  const current = $(panel.node, ".current-label");
  text(current, label);
  current.style.color = colour(label);
  text($(panel.node, ".current-confidence"),
    `${(confidence * 100).toFixed(0)}% · window ${p.window} ending at ${new Date(p.end_time * 1000).toLocaleTimeString()}`);
  for (const [name, [fill, value]] of panel.fills) {
    const probability = p.probabilities[name] || 0;
    fill.style.width = `${(probability * 100).toFixed(1)}%`;
    text(value, `${(probability * 100).toFixed(0)}%`);
  }
  panel.timeline.push(label);
  if (panel.timeline.length > TIMELINE) panel.timeline.shift();
  drawTimeline(panel);
}

function drawTimeline(panel) {
  const canvas = $(panel.node, ".timeline");
  const context = canvas.getContext("2d");
  const width = canvas.width / TIMELINE;
  context.clearRect(0, 0, canvas.width, canvas.height);
  const start = TIMELINE - panel.timeline.length;
  panel.timeline.forEach((label, i) => {
    context.fillStyle = colour(label);
    context.fillRect((start + i) * width, 0, Math.max(width - 1, 1), canvas.height);
  });
}

function wireRecorder(panel, id) {
  const form = $(panel.node, ".recorder");
  const status = $(panel.node, ".record-status");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {
      label: $(form, ".record-label").value.trim(),
      subject: $(form, ".record-subject").value.trim(),
      placement: $(form, ".record-placement").value,
    };
    await call(`/api/sessions/${id}/record/start`, body, status);
  });
  $(form, ".record-stop").addEventListener("click", async () => {
    const saved = await call(`/api/sessions/${id}/record/stop`, {}, status);
    if (saved) text(status, `saved ${saved.file} (${saved.samples} samples, ${saved.duration_s.toFixed(1)} s)`);
  });
}

async function call(url, body, status) {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
    const answer = await response.json();
    if (!response.ok) {
      text(status, `refused: ${answer.error}`);
      return null;
    }
    return answer;
  } catch (error) {
    text(status, `no answer from the server: ${error}`);
    return null;
  }
}

function showState(s) {
  showModel(s.model, s.recording_enabled);
  showServer(s);
  const live = new Set(s.sessions.map((x) => x.id));
  for (const [id, panel] of state.panels) {
    if (!live.has(id)) panel.node.classList.add("is-ended");
  }
  for (const session of s.sessions) showSession(session);
  refreshServerLine();
}

async function resync() {
  const response = await fetch("/api/state", { credentials: "same-origin" });
  if (response.ok) showState(await response.json());
}

function connect() {
  const connection = document.getElementById("connection");
  const feed = new EventSource("/api/events");
  feed.addEventListener("open", () => { text(connection, "live"); connection.classList.remove("off"); });
  feed.addEventListener("error", () => { text(connection, "reconnecting…"); connection.classList.add("off"); });
  feed.addEventListener("state", (e) => showState(JSON.parse(e.data)));
  feed.addEventListener("session", (e) => showSession(JSON.parse(e.data)));
  feed.addEventListener("session_end", (e) => showSession(JSON.parse(e.data), true));
  feed.addEventListener("prediction", (e) => showPrediction(JSON.parse(e.data)));
  feed.addEventListener("resync", () => { resync(); });
}

text(document.getElementById("push-url"), `${location.origin}/push`);
if (location.search.includes("token=")) {
  // The server has set its cookie; keep the token out of the address bar and history.
  history.replaceState(null, "", location.pathname);
}
connect();
