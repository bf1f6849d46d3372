// FER live page: the list of faces in the stream, and the browser-webcam mode.
"use strict";

(() => {
  const FACES_POLL_MS = 700;
  const WEBCAM_INTERVAL_MS = 250;   // at most four uploads a second
  const WEBCAM_WIDTH = 640;         // frames are shrunk to this width before upload
  const css = getComputedStyle(document.documentElement);
  const colorOf = (emotion) => css.getPropertyValue(`--${emotion}`).trim() || "#4da3ff";
  const percent = (value) => `${Math.round(100 * value)}%`;

  // ---- faces in the live stream ------------------------------------------------------
  const faceList = document.getElementById("faces");
  const faceCount = document.getElementById("face-count");
  const streamState = document.getElementById("stream-state");
  const streamMessage = document.getElementById("stream-message");
  const streamSource = document.getElementById("stream-source");

  function faceItem(face) {
    const item = document.createElement("li");
    item.className = `face emotion-${face.emotion}`;
    const name = document.createElement("span");
    name.className = "name";
    name.innerHTML = '<span class="dot"></span>';
    name.append(face.emotion);
    const bar = document.createElement("span");
    bar.className = "bar";
    const fill = document.createElement("span");
    fill.style.width = percent(face.confidence);
    bar.append(fill);
    const pct = document.createElement("span");
    pct.className = "pct";
    pct.textContent = percent(face.confidence);
    item.append(name, bar, pct);
    return item;
  }

  function renderFaces(list, faces, emptyText) {
    list.replaceChildren(...(faces.length ? faces.map(faceItem) : [emptyListItem(emptyText)]));
  }

  function emptyListItem(text) {
    const item = document.createElement("li");
    item.className = "empty";
    item.textContent = text;
    return item;
  }

  const streamImage = document.getElementById("stream");
  const decoder = new TextDecoder("ascii");
  const HEADER_END = [13, 10, 13, 10];

  function showStatus(info) {
    const live = info.state === "live";
    streamState.textContent = info.state;
    streamState.className = `badge ${live ? "live" : info.state === "error" ? "error" : ""}`;
    streamMessage.textContent = live ? "" : info.message;
    faceCount.textContent = info.faces.length;
    renderFaces(faceList, info.faces, live ? "No face in view." : "No video yet.");
  }

  // The picture and the list come from one part of the stream: the faces listed are those of
  // the frame on screen, not of whatever frame a separate request happened to catch.
  function showFrame(headers, jpeg) {
    const info = JSON.parse(headers["x-frame-info"] || "null");
    const previous = streamImage.src;
    streamImage.src = URL.createObjectURL(new Blob([jpeg], {type: "image/jpeg"}));
    if (previous.startsWith("blob:")) URL.revokeObjectURL(previous);
    if (!info) return;
    streamImage.dataset.frame = info.frame;
    faceList.dataset.frame = info.frame;
    showStatus(info);
  }

  function indexOf(bytes, pattern, from) {
    outer: for (let i = from; i <= bytes.length - pattern.length; i++) {
      for (let j = 0; j < pattern.length; j++) if (bytes[i + j] !== pattern[j]) continue outer;
      return i;
    }
    return -1;
  }

  // One multipart part from the front of `bytes`: {headers, body, rest}, or null until it is whole.
  function takePart(bytes) {
    const end = indexOf(bytes, HEADER_END, 0);
    if (end < 0) return null;
    const headers = {};
    for (const line of decoder.decode(bytes.subarray(0, end)).split("\r\n")) {
      const colon = line.indexOf(":");
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers["content-length"]);
    const start = end + HEADER_END.length;
    if (!(length >= 0) || bytes.length < start + length) return null;
    return {headers, body: bytes.slice(start, start + length), rest: bytes.subarray(start + length)};
  }

  async function readStream() {
    const response = await fetch(streamImage.dataset.src, {cache: "no-store"});
    if (!response.ok) {
      const reason = await response.text().catch(() => "");
      throw new Error(response.status === 503 ? "the server has as many viewers as it allows" : reason);
    }
    const reader = response.body.getReader();
    let buffered = new Uint8Array(0);
    for (;;) {
      const {value, done} = await reader.read();
      if (done) return;
      const joined = new Uint8Array(buffered.length + value.length);
      joined.set(buffered);
      joined.set(value, buffered.length);
      buffered = joined;
      let part;
      while ((part = takePart(buffered))) {
        showFrame(part.headers, part.body);
        buffered = part.rest;
      }
    }
  }

  async function watchStream() {
    try {
      await readStream();
      streamMessage.textContent = "The stream ended; reconnecting…";
    } catch (error) {
      streamState.textContent = "offline";
      streamState.className = "badge error";
      streamMessage.textContent = `No stream: ${error.message || error}. Retrying…`;
    }
    setTimeout(watchStream, 2000);
  }

  async function pollFaces() {  // browsers that cannot read a response as it arrives
    try {
      const response = await fetch("/api/faces", {cache: "no-store"});
      const status = await response.json();
      streamSource.textContent = status.description;
      showStatus(status);
    } catch (error) {
      streamState.textContent = "offline";
      streamState.className = "badge error";
    } finally {
      setTimeout(pollFaces, document.hidden ? 3 * FACES_POLL_MS : FACES_POLL_MS);
    }
  }

  if (faceList && streamImage) {
    if (window.ReadableStream && "body" in Response.prototype) {
      watchStream();
    } else {
      streamImage.src = streamImage.dataset.src;
      pollFaces();
    }
  }

  // ---- the visitor's own camera ----------------------------------------------------
  const toggle = document.getElementById("webcam-toggle");
  const stage = document.getElementById("webcam-stage");
  const video = document.getElementById("webcam");
  const overlay = document.getElementById("webcam-overlay");
  const webcamStatus = document.getElementById("webcam-status");
  const capture = document.createElement("canvas");
  let stream = null;
  let timer = null;

  function drawFaces(faces, scale) {
    overlay.width = video.videoWidth;
    overlay.height = video.videoHeight;
    const context = overlay.getContext("2d");
    context.clearRect(0, 0, overlay.width, overlay.height);
    const line = Math.max(2, overlay.width / 320);
    context.font = `600 ${Math.round(8 * line)}px system-ui, sans-serif`;
    context.textBaseline = "top";
    for (const face of faces) {
      const [x, y, w, h] = face.box.map((value) => value * scale);
      const color = colorOf(face.emotion);
      const label = `${face.emotion} ${percent(face.confidence)}`;
      context.lineWidth = line;
      context.strokeStyle = color;
      context.strokeRect(x, y, w, h);
      const textWidth = context.measureText(label).width + 4 * line;
      const textHeight = 11 * line;
      const top = y - textHeight >= 0 ? y - textHeight : y;
      context.fillStyle = color;
      context.fillRect(x, top, textWidth, textHeight);
      context.fillStyle = "#000";
      context.fillText(label, x + 2 * line, top + 1.5 * line);
    }
  }

  function grabFrame() {
    const scale = Math.min(1, WEBCAM_WIDTH / video.videoWidth);
    capture.width = Math.round(video.videoWidth * scale);
    capture.height = Math.round(video.videoHeight * scale);
    capture.getContext("2d").drawImage(video, 0, 0, capture.width, capture.height);
    return new Promise((resolve) => capture.toBlob(resolve, "image/jpeg", 0.8)).then((blob) => ({blob, scale}));
  }

  async function sendFrame() {
    timer = null;
    if (!stream) return;
    const started = performance.now();
    try {
      if (video.videoWidth) {
        const {blob, scale} = await grabFrame();
        const form = new FormData();
        form.append("image", blob, "frame.jpg");
        const response = await fetch("/api/predict", {method: "POST", body: form});
        const result = await response.json();
        if (!response.ok) throw new Error(result.error || response.statusText);
        if (stream) {
          drawFaces(result, 1 / scale);
          webcamStatus.textContent = result.length
            ? result.map((face) => `${face.emotion} ${percent(face.confidence)}`).join(" · ")
            : "No face found: face the camera in good light.";
        }
      }
    } catch (error) {
      webcamStatus.textContent = `Prediction failed: ${error.message}`;
    }
    if (stream) timer = setTimeout(sendFrame, Math.max(0, WEBCAM_INTERVAL_MS - (performance.now() - started)));
  }

  async function startWebcam() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      webcamStatus.textContent = "This browser gives no camera access here (it needs https or localhost).";
      return;
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({video: {width: {ideal: 640}, height: {ideal: 480}}, audio: false});
    } catch (error) {
      webcamStatus.textContent = `No camera: ${error.message || error.name}`;
      return;
    }
    video.srcObject = stream;
    stage.hidden = false;
    toggle.textContent = "Stop camera";
    toggle.classList.add("stop");
    webcamStatus.textContent = "Looking for faces…";
    sendFrame();
  }

  function stopWebcam() {
    if (timer) clearTimeout(timer);
    timer = null;
    stream.getTracks().forEach((track) => track.stop());
    stream = null;
    video.srcObject = null;
    stage.hidden = true;
    toggle.textContent = "Use my camera";
    toggle.classList.remove("stop");
    webcamStatus.textContent = "Camera off.";
  }

  if (toggle) toggle.addEventListener("click", () => (stream ? stopWebcam() : startWebcam()));
})();
