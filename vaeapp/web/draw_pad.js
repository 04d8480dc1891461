// A square drawing pad: white round strokes on black, by mouse, pen or touch.
// "Encode" (and, when data.live is set, the end of each stroke) sends the
// drawing to Python as a PNG data URL through the "drawing" trigger; "Clear"
// wipes the pad in the browser only. The pad keeps its drawing across reruns,
// until data.reset changes (another model: its strokes meant the old one's
// data). data.subject names what to draw, for the pad's label.

const SIDE = 280; // canvas pixels; the exported PNG is SIDE x SIDE

function buildDom(parent) {
  const root = document.createElement("div");
  root.className = "vae-draw";
  root.innerHTML = `
    <canvas class="vae-draw-pad" width="${SIDE}" height="${SIDE}"
      data-testid="vae-draw-pad" aria-label="drawing pad"></canvas>
    <div class="vae-draw-buttons">
      <button type="button" class="vae-draw-clear" data-testid="vae-draw-clear">Clear</button>
      <button type="button" class="vae-draw-encode" data-testid="vae-draw-encode">Encode</button>
    </div>
    <div class="vae-draw-hint" data-testid="vae-draw-hint"></div>`;
  parent.appendChild(root);
  return root;
}

function attach(root) {
  const pad = root.querySelector(".vae-draw-pad");
  const hint = root.querySelector(".vae-draw-hint");
  const ctx = pad.getContext("2d");
  let last = null; // the previous point of the stroke in progress
  let pointer = null; // the id of the pointer drawing it

  function wipe() {
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, SIDE, SIDE);
    root.dataset.strokes = "0";
  }

  function setStyle() {
    ctx.strokeStyle = "#fff";
    ctx.fillStyle = "#fff";
    ctx.lineWidth = root.__state.lineWidth;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
  }

  function toPad(event) {
    const box = pad.getBoundingClientRect();
    return [
      ((event.clientX - box.left) / box.width) * SIDE,
      ((event.clientY - box.top) / box.height) * SIDE,
    ];
  }

  function send() {
    if (root.dataset.strokes === "0") {
      hint.textContent = "Draw something first.";
      return;
    }
    hint.textContent = "";
    root.__state.send(pad.toDataURL("image/png"));
  }

  pad.addEventListener("pointerdown", (e) => {
    if (pointer !== null || (e.pointerType === "mouse" && e.button !== 0)) return;
    e.preventDefault();
    pointer = e.pointerId;
    try {
      pad.setPointerCapture(e.pointerId); // keep the stroke when it leaves the pad
    } catch (err) {
      // an untrusted or already-ended pointer: draw without capture
    }
    setStyle();
    last = toPad(e);
    ctx.beginPath(); // a tap leaves a round dot
    ctx.arc(last[0], last[1], ctx.lineWidth / 2, 0, 2 * Math.PI);
    ctx.fill();
    hint.textContent = "";
  });

  pad.addEventListener("pointermove", (e) => {
    if (e.pointerId !== pointer || last === null) return;
    e.preventDefault();
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
    ctx.beginPath();
    ctx.moveTo(last[0], last[1]);
    for (const ev of events.length ? events : [e]) {
      last = toPad(ev);
      ctx.lineTo(last[0], last[1]);
    }
    ctx.stroke();
  });

  function end(e) {
    if (e.pointerId !== pointer) return;
    pointer = null;
    last = null;
    root.dataset.strokes = String(Number(root.dataset.strokes) + 1);
    if (root.__state.live) send();
  }
  pad.addEventListener("pointerup", end);
  pad.addEventListener("pointercancel", end);
  pad.addEventListener("contextmenu", (e) => e.preventDefault());

  root.querySelector(".vae-draw-clear").addEventListener("click", () => {
    wipe();
    hint.textContent = "";
  });
  root.querySelector(".vae-draw-encode").addEventListener("click", send);
  root.__wipe = () => {
    wipe();
    hint.textContent = "";
  };
  wipe();
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  let root = parentElement.querySelector(".vae-draw");
  const fresh = !root;
  if (fresh) root = buildDom(parentElement);
  root.__state = {
    lineWidth: Number(data.line_width) || 18,
    live: Boolean(data.live),
    send: (url) => setTriggerValue("drawing", url),
  };
  if (fresh) attach(root);
  const reset = String(data.reset ?? "");
  if (!fresh && root.__reset !== reset) root.__wipe();
  root.__reset = reset;
  root.querySelector(".vae-draw-pad").setAttribute(
    "aria-label", `drawing pad: draw ${String(data.subject || "a digit")}`
  );
}
