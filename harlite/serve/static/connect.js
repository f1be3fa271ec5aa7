// "Connect a phone": the push URLs a phone can reach (this machine's LAN addresses when the
// server listens on every network) and a QR code of the first, from /api/connect.
"use strict";

async function showConnect() {
  const box = document.getElementById("connect");
  if (!box) return;
  let info;
  try {
    const response = await fetch("/api/connect", { credentials: "same-origin" });
    if (!response.ok) return;
    info = await response.json();
  } catch (error) {
    return;
  }
  const list = document.getElementById("push-urls");
  const token = info.token ? "?token=…" : "";
  for (const entry of info.push_urls) {
    const item = document.createElement("li");
    const code = document.createElement("code");
    code.textContent = entry.url + token;
    item.append(code, ` (${entry.via})`);
    list.append(item);
  }
  if (info.push_urls.length) {
    document.getElementById("push-url").textContent = info.push_urls[0].url + token;
  }
  const note = document.getElementById("connect-note");
  if (!info.push_urls.length) {
    note.textContent = "This server listens on this machine only: a phone cannot reach it. " +
      "Start it with --host 0.0.0.0 --token SECRET to take phones on your network.";
  } else if (info.qr) {
    const image = document.getElementById("push-qr");
    image.src = info.qr;  // a data: URI made by the server
    image.hidden = false;
    note.textContent = "Scan with the phone's camera: the push URL" +
      (info.token ? " with the token" : "") + ", to paste into Sensor Logger's Push URL.";
  } else if (info.qr_missing) {
    note.textContent = info.qr_missing;
  }
}

showConnect();
