"use strict";
// The latent explorer: decodes in plain JavaScript (float64 arithmetic on fixed-point weights),
// draws on canvases, and loads nothing. `window.explorer` lets tests and benchmarks drive it.
(() => {
  const data = JSON.parse(document.getElementById("payload").textContent);
  const D = data.latentDim;
  const SIZE = 480; // the plane's canvas, in CSS pixels and canvas pixels alike
  const PIXELS = 784;
  const SIDE = 28;
  const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                   "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  const $ = (id) => document.getElementById(id);
  const el = (tag, props = {}, ...children) => {
    const node = Object.assign(document.createElement(tag), props);
    node.append(...children);
    return node;
  };

  // ---- payload decoding -------------------------------------------------------------
  function bytes(base64) {
    const text = atob(base64);
    const out = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
    return out;
  }
  function floats(base64) {
    const raw = bytes(base64);
    const view = new DataView(raw.buffer);
    const out = new Float64Array(raw.length / 4);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true);
    return out;
  }
  function fixedPoint(encoded, stride, scalePerColumn) {
    // int16 q times its float32 scale: one scale per row of `stride` values, or per column.
    const raw = bytes(encoded.q);
    const view = new DataView(raw.buffer);
    const scale = floats(encoded.scale);
    const out = new Float64Array(raw.length / 2);
    for (let i = 0; i < out.length; i++) {
      const k = scalePerColumn ? i % stride : Math.floor(i / stride);
      out[i] = view.getInt16(2 * i, true) * scale[k];
    }
    return out;
  }
  const digits = bytes(data.digits);
  const prepared = new Map();
  function prepare(model) {
    if (!prepared.has(model)) {
      const grid = model.grid;
      prepared.set(model, {
        layers: model.layers.map((l) => ({
          rows: l.rows, cols: l.cols, weight: fixedPoint(l.weight, l.cols, false), bias: floats(l.bias),
        })),
        means: fixedPoint(model.means, D, true),
        grid: { size: grid.size, window: grid.window,
                digit: bytes(grid.digit), confidence: bytes(grid.confidence) },
      });
    }
    return prepared.get(model);
  }

  // ---- the model ----------------------------------------------------------------------
  function decode(model, z) {
    const layers = prepare(model).layers;
    let h = Float64Array.from(z);
    layers.forEach((layer, k) => {
      const out = new Float64Array(layer.rows);
      const last = k === layers.length - 1;
      for (let r = 0; r < layer.rows; r++) {
        let sum = layer.bias[r];
        const offset = r * layer.cols;
        for (let c = 0; c < layer.cols; c++) sum += layer.weight[offset + c] * h[c];
        out[r] = last ? 1 / (1 + Math.exp(-sum)) : Math.max(sum, 0);
      }
      h = out;
    });
    return h;
  }
  function meanOf(model, index) {
    return Array.from(prepare(model).means.subarray(index * D, (index + 1) * D));
  }

  // ---- state --------------------------------------------------------------------------
  const state = {
    menu: { ...data.models[0].menu },
    dims: D >= 2 ? [0, 1] : [0],
    held: data.interpolate[0],
    ends: [...data.interpolate],
    nextEnd: 0,
    z: null,
  };
  const api = { data, lastDecodeMs: null };
  window.explorer = api;

  function current() {
    return data.models.find((m) => data.menus.every((k) => m.menu[k] === state.menu[k]));
  }
  function siblings(model) {
    // The models that differ from `model` only in the compared menu (β), in payload order.
    const others = data.menus.filter((k) => k !== data.compare);
    return data.models.filter((m) => others.every((k) => m.menu[k] === model.menu[k]));
  }
  function isDefaultSlice() {
    const dims = D >= 2 ? [0, 1] : [0];
    return state.dims.every((d, i) => d === dims[i]) && (D <= 2 || state.held === data.interpolate[0]);
  }
  function squareWindow(extent, dims) {
    // As payload.square_window: the dims' extent widened to a square, so circles stay round.
    const centres = dims.map((d) => (extent[d][0] + extent[d][1]) / 2);
    const half = Math.max(...dims.map((d) => (extent[d][1] - extent[d][0]) / 2));
    const window = centres.flatMap((c) => [c - half, c + half]);
    return dims.length === 1 ? [...window, 0, 1] : window;
  }
  function planeWindow() {
    return squareWindow(current().extent, state.dims);
  }
  function pixelOf(z) {
    const [x0, x1, y0, y1] = planeWindow();
    const x = ((z[state.dims[0]] - x0) / (x1 - x0)) * SIZE;
    const y = D >= 2 ? SIZE - ((z[state.dims[1]] - y0) / (y1 - y0)) * SIZE : SIZE / 2;
    return { x, y };
  }
  function zAt(px, py) {
    const [x0, x1, y0, y1] = planeWindow();
    const z = D > 2 ? meanOf(current(), state.held) : new Array(D).fill(0);
    z[state.dims[0]] = x0 + (px / SIZE) * (x1 - x0);
    if (D >= 2) z[state.dims[1]] = y0 + ((SIZE - py) / SIZE) * (y1 - y0);
    return z;
  }

  // ---- drawing ------------------------------------------------------------------------
  function paint(canvas, pixels) {
    const ctx = canvas.getContext("2d");
    const image = ctx.createImageData(SIDE, SIDE);
    for (let i = 0; i < PIXELS; i++) {
      const v = Math.round(pixels[i] * 255);
      image.data[4 * i] = v;
      image.data[4 * i + 1] = v;
      image.data[4 * i + 2] = v;
      image.data[4 * i + 3] = 255;
    }
    ctx.putImageData(image, 0, 0);
  }
  function digitCanvas() {
    return el("canvas", { className: "digit", width: SIDE, height: SIDE });
  }
  function circle(ctx, centre, radius, colour, label, below) {
    const c = pixelOf(centre);
    const [x0, x1] = planeWindow();
    const r = (radius / (x1 - x0)) * SIZE;
    ctx.strokeStyle = colour;
    ctx.fillStyle = colour;
    ctx.setLineDash([6, 4]);
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    if (D >= 2) {
      ctx.arc(c.x, c.y, r, 0, 2 * Math.PI);
    } else {
      ctx.moveTo(c.x - r, 0); ctx.lineTo(c.x - r, SIZE);
      ctx.moveTo(c.x + r, 0); ctx.lineTo(c.x + r, SIZE);
    }
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.font = "12px system-ui, sans-serif";
    const width = ctx.measureText(label).width;
    const x = Math.min(Math.max(c.x - width / 2, 2), SIZE - width - 2);
    const y = D < 2 ? (below ? SIZE - 6 : 14) : below ? c.y + r + 14 : c.y - r - 4;
    ctx.fillText(label, x, Math.min(Math.max(y, 14), SIZE - 6));
  }
  function drawPlane() {
    const model = current();
    const means = prepare(model).means;
    const ctx = $("plane").getContext("2d");
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, SIZE, SIZE);
    const [x0, x1, y0, y1] = planeWindow();
    const [a, b] = state.dims;
    for (let i = 0; i < digits.length; i++) {
      const x = ((means[i * D + a] - x0) / (x1 - x0)) * SIZE;
      const y = D >= 2
        ? SIZE - ((means[i * D + b] - y0) / (y1 - y0)) * SIZE
        : ((digits[i] + 0.1 + 0.8 * ((i * 0.618034) % 1)) / 10) * SIZE;
      ctx.fillStyle = PALETTE[digits[i]];
      ctx.fillRect(x - 1, y - 1, 2, 2);
    }
    const zero = new Array(D).fill(0);
    circle(ctx, zero, data.prior.radius, "#000", data.prior.name, true);
    circle(ctx, new Array(D).fill(data.shifted.mean), data.shifted.radius, "#c00", data.shifted.name, false);
    $("circles").textContent =
      `Dashed: two standard deviations of ${data.prior.name} (black) and of ${data.shifted.name} ` +
      `(red), the region figure 14 samples from. Axes z${a + 1}` + (D >= 2 ? ` (right), z${b + 1} (up).` : ".");
    $("fidelity").textContent =
      `Decoder weights are stored in 16-bit fixed point: over this plane the page's pixels stay ` +
      `within ${model.decodeError.toFixed(2)}/255 of PyTorch's float32 decode (measured when the page was built).`;
  }
  function drawOverlay() {
    const ctx = $("overlay").getContext("2d");
    ctx.clearRect(0, 0, SIZE, SIZE);
    const model = current();
    state.ends.forEach((index, k) => {
      const p = pixelOf(meanOf(model, index));
      ctx.strokeStyle = "#000";
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.arc(p.x, p.y, 6, 0, 2 * Math.PI);
      ctx.stroke();
      ctx.fillStyle = "#000";
      ctx.font = "bold 13px system-ui, sans-serif";
      ctx.fillText("AB"[k], p.x + 8, p.y - 6);
    });
    if (state.z) {
      const p = pixelOf(state.z);
      ctx.strokeStyle = "rgba(0,0,0,0.6)";
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(p.x, 0); ctx.lineTo(p.x, SIZE);
      if (D >= 2) { ctx.moveTo(0, p.y); ctx.lineTo(SIZE, p.y); }
      ctx.stroke();
    }
  }

  // ---- what the pointer decodes ---------------------------------------------------------
  function verdict(model, z) {
    if (!isDefaultSlice()) return null;
    const g = prepare(model).grid;
    const [x0, x1, y0, y1] = g.window;
    const i = Math.floor(((z[0] - x0) / (x1 - x0)) * g.size);
    const j = D >= 2 ? Math.floor(((z[1] - y0) / (y1 - y0)) * g.size) : 0;
    if (i < 0 || i >= g.size || j < 0 || j >= g.size) return null;
    const k = j * g.size + i;
    return { digit: g.digit[k], confidence: g.confidence[k] / 255 };
  }
  function showZ(z, since) {
    state.z = z;
    const model = current();
    paint($("decode"), decode(model, z));
    $("readout").textContent = "z = (" + z.map((v) => v.toFixed(3)).join(", ") + ")";
    $("readout").dataset.z = JSON.stringify(z);
    const v = verdict(model, z);
    const size = prepare(model).grid.size;
    $("verdict").textContent = v
      ? `${data.classifier}: ${v.digit} (confidence ${v.confidence.toFixed(2)}), ` +
        `at the nearest of ${size} × ${size} precomputed points`
      : `${data.classifier}: precomputed only on the default slice`;
    for (const figure of $("compare").children) {
      paint(figure.firstChild, decode(figure.model, z));
    }
    drawOverlay();
    api.lastDecodeMs = performance.now() - since;
  }
  function showStrip() {
    const model = current();
    const [a, b] = state.ends.map((index) => meanOf(model, index));
    const strip = $("strip");
    strip.replaceChildren();
    const n = data.stripImages;
    for (let s = 0; s < n; s++) {
      const t = s / (n - 1);
      const z = a.map((v, d) => (1 - t) * v + t * b[d]);
      const canvas = digitCanvas();
      paint(canvas, decode(model, z));
      const caption = s === 0 ? `A: #${state.ends[0]} (${digits[state.ends[0]]})`
        : s === n - 1 ? `B: #${state.ends[1]} (${digits[state.ends[1]]})` : `t = ${t.toFixed(2)}`;
      strip.append(el("figure", {}, canvas, el("figcaption", { textContent: caption })));
    }
    drawOverlay();
  }
  function showCompare() {
    const row = $("compare");
    row.replaceChildren();
    for (const model of siblings(current())) {
      const figure = el("figure", {}, digitCanvas(),
                        el("figcaption", { textContent: model.label }));
      figure.model = model;
      row.append(figure);
    }
  }
  function refresh() {
    drawPlane();
    showCompare();
    showStrip();
    showZ(state.z || (D > 2 ? meanOf(current(), state.held) : meanOf(current(), state.ends[0])),
          performance.now());
    if (D === 1) {
      const [x0, x1] = planeWindow();
      Object.assign($("slider"), { min: x0, max: x1, step: (x1 - x0) / 1000, value: state.z[0] });
    }
  }

  // ---- controls -------------------------------------------------------------------------
  function select(key, value) {
    // Choose a model by one menu; if that combination is missing, take the first model with it.
    state.menu[key] = value;
    if (!current()) state.menu = { ...data.models.find((m) => m.menu[key] === value).menu };
    data.menus.forEach((k) => { $(`menu-${k}`).value = state.menu[k]; });
    refresh();
  }
  api.pixelOf = pixelOf;
  api.planeWindow = planeWindow;

  for (const key of data.menus) {
    const values = [...new Set(data.models.map((m) => m.menu[key]))];
    const menu = el("select", { id: `menu-${key}` },
                    ...values.map((v) => el("option", { value: v, textContent: v })));
    menu.value = state.menu[key];
    menu.disabled = values.length === 1;
    menu.addEventListener("change", () => select(key, menu.value));
    $("menus").append(el("label", {}, `${key} `, menu));
  }
  const clampIndex = (value) => Math.min(Math.max(Math.round(Number(value)) || 0, 0), digits.length - 1);
  if (D > 2) {
    for (const [k, name] of [[0, "horizontal"], [1, "vertical"]]) {
      const menu = el("select", { id: `dim-${k}` },
                      ...Array.from({ length: D }, (_, d) => el("option", { value: d, textContent: `z${d + 1}` })));
      menu.value = state.dims[k];
      menu.addEventListener("change", () => {
        const other = state.dims[1 - k];
        const chosen = Number(menu.value);
        if (chosen === other) state.dims[1 - k] = state.dims[k];
        state.dims[k] = chosen;
        $(`dim-${1 - k}`).value = state.dims[1 - k];
        state.z = null;
        refresh();
      });
      $("slice").append(el("label", {}, `${name} axis `, menu));
    }
    const held = el("input", { id: "held", type: "number", min: 0, max: digits.length - 1, value: state.held });
    held.addEventListener("change", () => { state.held = clampIndex(held.value); held.value = state.held; state.z = null; refresh(); });
    $("slice").append(el("label", {}, "other dimensions held at test digit # ", held));
  }
  if (D === 1) {
    const slider = el("input", { id: "slider", type: "range" });
    slider.addEventListener("input", (e) => showZ([Number(slider.value)], e.timeStamp));
    $("slice").append(el("label", {}, "z1 ", slider));
  }
  state.ends.forEach((index, k) => {
    const input = el("input", { id: `end-${k}`, type: "number", min: 0, max: digits.length - 1, value: index });
    input.addEventListener("change", () => { state.ends[k] = clampIndex(input.value); input.value = state.ends[k]; showStrip(); });
    $("ends").append(el("label", {}, `${"AB"[k]}: test digit # `, input));
  });
  $("legend").append(...PALETTE.map((colour, d) => el("span", { textContent: d, style: `background:${colour}` })));

  const overlay = $("overlay");
  function nearest(px, py) {
    const model = current();
    let best = 0;
    let bestDistance = Infinity;
    for (let i = 0; i < digits.length; i++) {
      const p = pixelOf(meanOf(model, i));
      const distance = (p.x - px) ** 2 + (p.y - py) ** 2;
      if (distance < bestDistance) { best = i; bestDistance = distance; }
    }
    return best;
  }
  overlay.addEventListener("pointermove", (e) => showZ(zAt(e.offsetX, e.offsetY), e.timeStamp));
  overlay.addEventListener("pointerdown", (e) => {
    if (!e.shiftKey) return;
    state.ends[state.nextEnd] = nearest(e.offsetX, e.offsetY);
    $(`end-${state.nextEnd}`).value = state.ends[state.nextEnd];
    state.nextEnd = 1 - state.nextEnd;
    showStrip();
  });

  refresh();
})();
