// dreamface web chat: a websocket carries messages both ways; no framework, no build step.
// Nothing is lost silently: what is typed offline waits, marked, and goes on reconnect; a photo
// or text over the server's limits (the page's data attributes) is refused here with a notice.
"use strict";

(function () {
  const log = document.getElementById("log");
  const form = document.getElementById("form");
  const input = document.getElementById("text");
  const photo = document.getElementById("photo");
  const status = document.getElementById("status");
  const limits = document.body.dataset;
  const waiting = [];           // frames typed while offline, each with its "not sent" bubble, in order
  let opened = false;           // a page that has connected once keeps its log: only its first socket restores
  const progress = new Map();   // job token (this page's own name of a job) -> the message its updates replace
  const finished = new Set();   // jobs whose result arrived: a late progress update is dropped
  let socket = null;
  let retryDelay = 500;

  function connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(`${scheme}//${location.host}/ws${opened ? "" : "?restore=1"}`);
    socket.onopen = () => {
      opened = true;
      retryDelay = 500;
      status.textContent = limits.online;
      status.classList.add("online");
      while (waiting.length && socket.readyState === WebSocket.OPEN) {
        const { frame, message } = waiting.shift();
        socket.send(frame);
        if (!message) continue;
        message.classList.remove("waiting");
        message.querySelector(".mark").remove();
      }
    };
    socket.onclose = (event) => {
      status.classList.remove("online");
      if (event.code >= 4000 && event.code < 5000) {
        // the server said why in a notice (too many tabs, a blocked network): retrying would not help
        status.textContent = limits.closed;
        return;
      }
      if (event.code === 1009) notice(limits.frameTooBig);   // a frame over the socket's limit
      status.textContent = limits.offline;
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
      img.alt = image.alt || image.filename;
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
    if (reply.tiles && reply.tiles.length) bubble.appendChild(tilesFor(reply.tiles));
    if (reply.buttons.length) bubble.appendChild(buttonsFor(reply.buttons));
    return bubble;
  }

  function buttonsFor(buttonRows) {
    const rows = element("div", "buttons");
    for (const row of buttonRows) {
      const line = element("div", "row");
      for (const button of row) {
        // a breeding array's toggle: ticked (✓) when its face is selected
        const node = element("button", button.toggle && button.label.startsWith("✓") ? "on" : "", button.label);
        node.type = "button";
        node.dataset.payload = button.payload;
        node.onclick = () => press(button);
        line.appendChild(node);
      }
      rows.appendChild(line);
    }
    return rows;
  }

  // an "update" (a toggle ticked): the message whose button was pressed, the newest one showing
  // any of these buttons, takes the new words and buttons; false if there is none
  function update(frame) {
    const payloads = new Set(frame.buttons.flat().map((button) => button.payload));
    const bubble = [...log.querySelectorAll(".msg.bot .bubble")].reverse().find((candidate) =>
      [...candidate.querySelectorAll(".buttons button")].some((node) => payloads.has(node.dataset.payload)));
    if (!bubble) return false;
    bubble.querySelector("p").textContent = frame.text;
    const buttons = bubble.querySelector(".buttons");
    if (buttons) buttons.replaceWith(buttonsFor(frame.buttons));
    else bubble.appendChild(buttonsFor(frame.buttons));
    return true;
  }

  // a history: a thumbnail per face with what its step did, each a button that goes back there
  function tilesFor(tiles) {
    const grid = element("div", "tiles");
    for (const tile of tiles) {
      const node = element("button", tile.current ? "tile current" : "tile");
      node.type = "button";
      node.dataset.payload = tile.button.payload;
      if (tile.image) {
        const img = element("img");
        img.src = imageFrom(tile.image);
        img.alt = tile.caption;
        node.appendChild(img);
      }
      node.appendChild(element("span", "", tile.caption));
      node.onclick = () => press(tile.button);
      grid.appendChild(node);
    }
    return grid;
  }

  function notice(text) {
    log.appendChild(element("div", "notice", text));
    scrollDown();
  }

  // "lang en" / "언어 한국어" (or a returning user's chosen language): the page's own words follow
  function applyChrome(chrome) {
    document.documentElement.lang = chrome.lang;
    for (const [name, text] of Object.entries(chrome.words)) {
      document.body.setAttribute(`data-${name}`, text);
    }
    document.querySelector(".tagline").textContent = chrome.tagline;
    input.placeholder = chrome.placeholder;
    document.getElementById("send").textContent = chrome.send;
    document.getElementById("photo-label").textContent = chrome.photo;
    document.querySelector("label.photo").title = chrome.photo_title;
    status.textContent = status.classList.contains("online") ? limits.online : limits.offline;
    const chips = document.querySelector(".chips");
    chips.replaceChildren(...chrome.chips.map((text) => {
      const chip = element("button", "chip", text);
      chip.type = "button";
      chip.dataset.send = text;
      chip.addEventListener("click", () => say(text));
      return chip;
    }));
  }

  function receive(frame) {
    if (frame.chrome) applyChrome(frame.chrome);
    if (frame.type === "notice") {
      notice(frame.text);
      return;
    }
    if (frame.type === "restore") {
      for (const reply of frame.replies) receive(reply);
      return;
    }
    if (frame.kind === "update" && update(frame)) return;
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

  // sends a frame now, or keeps it (its message marked "not sent"; a toggle, which has no message
  // of its own, says so in a notice) until the socket is open again
  function send(frame, message) {
    frame = frame instanceof ArrayBuffer ? frame : JSON.stringify(frame);
    if (socket && socket.readyState === WebSocket.OPEN && !waiting.length) {
      socket.send(frame);
      return;
    }
    if (message) {
      message.classList.add("waiting");
      message.querySelector(".bubble").appendChild(element("div", "mark", limits.notSent));
    } else {
      notice(limits.notSent);
    }
    waiting.push({ frame, message });
  }

  // false: refused here (too long), so the text stays in the box
  function say(text) {
    text = text.trim();
    if (!text) return true;
    if (text.length > input.maxLength) {
      notice(limits.textTooLong);
      return false;
    }
    send({ type: "text", text: text }, mine(text));
    return true;
  }

  // a press shows as the user's message, but a toggle, which ticks its own button instead
  function press(button) {
    send({ type: "button", payload: button.payload }, button.toggle ? null : mine(button.label));
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (say(input.value)) input.value = "";
    input.focus();
  });

  // the box takes at most maxlength characters; a longer paste is cut there, so say so
  input.addEventListener("paste", (event) => {
    const pasted = event.clipboardData ? event.clipboardData.getData("text") : "";
    const kept = input.value.length - (input.selectionEnd - input.selectionStart);
    if (kept + pasted.length > input.maxLength) notice(limits.textTooLong);
  });

  for (const chip of document.querySelectorAll(".chip")) {
    chip.addEventListener("click", () => say(chip.dataset.send));
  }

  photo.addEventListener("change", async () => {
    const file = photo.files[0];
    photo.value = "";
    if (!file) return;
    if (file.size > Number(limits.photoMax)) {
      notice(limits.photoTooBig);
      return;
    }
    const message = mine("");
    const img = element("img");
    img.src = URL.createObjectURL(file);
    img.alt = file.name;
    img.onload = scrollDown;
    message.querySelector(".bubble").replaceChildren(img);
    send(await file.arrayBuffer(), message);
  });

  connect();
})();
