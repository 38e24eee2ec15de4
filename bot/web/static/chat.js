// dreamface web chat: a websocket carries messages both ways; no framework, no build step.
"use strict";

(function () {
  const log = document.getElementById("log");
  const form = document.getElementById("form");
  const input = document.getElementById("text");
  const photo = document.getElementById("photo");
  const status = document.getElementById("status");
  const progress = new Map();   // job token (this page's own name of a job) -> the message its updates replace
  const finished = new Set();   // jobs whose result arrived: a late progress update is dropped
  let socket = null;
  let retryDelay = 500;

  function connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(`${scheme}//${location.host}/ws`);
    socket.onopen = () => {
      retryDelay = 500;
      status.textContent = document.body.dataset.online;
      status.classList.add("online");
    };
    socket.onclose = (event) => {
      status.classList.remove("online");
      if (event.code >= 4000 && event.code < 5000) {
        // the server said why in a notice (too many tabs, a blocked network): retrying would not help
        status.textContent = document.body.dataset.closed;
        return;
      }
      status.textContent = document.body.dataset.offline;
      setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 10000);
    };
    socket.onmessage = (event) => receive(JSON.parse(event.data));
  }

  function scrollDown() {
    log.scrollTop = log.scrollHeight;
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function imageFrom(image) {
    const bytes = Uint8Array.from(atob(image.data), (c) => c.charCodeAt(0));
    return URL.createObjectURL(new Blob([bytes], { type: image.content_type }));
  }

  function bubbleFor(reply) {
    const bubble = element("div", "bubble");
    bubble.appendChild(element("p", "", reply.text));
    for (const image of reply.images) {
      const url = imageFrom(image);
      const figure = element("figure");
      const img = element("img");
      img.src = url;
      img.alt = image.filename;
      // numbered sheets to pick from get the bubble's full width
      if (image.sheet) img.classList.add("sheet");
      img.onload = scrollDown;
      figure.appendChild(img);
      if (image.as_file) {
        const caption = element("figcaption");
        const link = element("a", "", "⬇ " + image.filename);
        link.href = url;
        link.download = image.filename;
        caption.appendChild(link);
        figure.appendChild(caption);
      }
      bubble.appendChild(figure);
    }
    if (reply.buttons.length) {
      const rows = element("div", "buttons");
      for (const row of reply.buttons) {
        const line = element("div", "row");
        for (const button of row) {
          const node = element("button", "", button.label);
          node.type = "button";
          node.dataset.payload = button.payload;
          node.onclick = () => press(button);
          line.appendChild(node);
        }
        rows.appendChild(line);
      }
      bubble.appendChild(rows);
    }
    return bubble;
  }

  function receive(frame) {
    if (frame.type === "notice") {
      log.appendChild(element("div", "notice", frame.text));
      scrollDown();
      return;
    }
    if (frame.job_id !== null) {
      if (frame.kind === "progress" && finished.has(frame.job_id)) return;
      if (frame.kind !== "progress") finished.add(frame.job_id);
    }
    const message = element("div", `msg bot ${frame.kind}`);
    message.appendChild(bubbleFor(frame));
    if (frame.job_id !== null) message.dataset.job = frame.job_id;
    const waiting = frame.job_id !== null ? progress.get(frame.job_id) : undefined;
    if (waiting) {
      // the progress message of this job turns into its next state, or into the result
      waiting.replaceWith(message);
      if (frame.kind === "progress") progress.set(frame.job_id, message);
      else progress.delete(frame.job_id);
    } else {
      log.appendChild(message);
      if (frame.kind === "progress") progress.set(frame.job_id, message);
    }
    scrollDown();
  }

  function mine(text) {
    const message = element("div", "msg me");
    message.appendChild(element("div", "bubble")).appendChild(element("p", "", text));
    log.appendChild(message);
    scrollDown();
    return message;
  }

  function send(frame) {
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(typeof frame === "string" || frame instanceof ArrayBuffer ? frame : JSON.stringify(frame));
    return true;
  }

  function say(text) {
    text = text.trim();
    if (text && send({ type: "text", text: text })) mine(text);
  }

  function press(button) {
    if (send({ type: "button", payload: button.payload })) mine(button.label);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    say(input.value);
    input.value = "";
    input.focus();
  });

  for (const chip of document.querySelectorAll(".chip")) {
    chip.addEventListener("click", () => say(chip.dataset.send));
  }

  photo.addEventListener("change", async () => {
    const file = photo.files[0];
    photo.value = "";
    if (!file) return;
    const data = await file.arrayBuffer();
    if (!send(data)) return;
    const message = mine("");
    const img = element("img");
    img.src = URL.createObjectURL(file);
    img.alt = file.name;
    img.onload = scrollDown;
    message.querySelector(".bubble").replaceChildren(img);
  });

  connect();
})();
