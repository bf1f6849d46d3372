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

  async function pollFaces() {
    try {
      const response = await fetch("/api/faces", {cache: "no-store"});
      const status = await response.json();
      const live = status.state === "live";
      streamState.textContent = status.state;
      streamState.className = `badge ${live ? "live" : status.state === "error" ? "error" : ""}`;
      streamSource.textContent = status.description;
      streamMessage.textContent = live ? "" : status.message;
      faceCount.textContent = status.faces.length;
      renderFaces(faceList, status.faces, live ? "No face in view." : "No video yet.");
    } catch (error) {
      streamState.textContent = "offline";
      streamState.className = "badge error";
    } finally {
      setTimeout(pollFaces, document.hidden ? 3 * FACES_POLL_MS : FACES_POLL_MS);
    }
  }

  if (faceList) pollFaces();

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
