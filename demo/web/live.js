// The app's live controls, run in the visitor's browser: the Morph slider, the Directions sliders and truncation
// redraw their face with onnxruntime-web (WebAssembly, vendored in demo/web/ort and served by the app itself) with no
// server round trip. Loaded lazily: the runtime (≈14 MB) is fetched the first time Morph or Directions opens or a
// live control moves. Where WebAssembly is missing or the runtime fails to load, every control goes through the
// server exactly as before (a click on the hidden server button of that control).
//
// A face is a seed or a face code (a projected picture's z, demo/latents.py encode_z), decoded here exactly as there.
// The seed convention is numpy's, reproduced here: z = RandomState(seed).standard_normal(nz) (MT19937 + the legacy
// polar Box–Muller), checked against numpy in tests/test_live.py. The rest mirrors demo/latents.py and demo/engine.py.

const state = { status: "idle", session: null, loading: null, error: null, frames: 0, lastFaces: {}, busy: false,
                pending: null };

// ---- numpy's legacy normal stream ------------------------------------------------------------------------------
class MT19937 {
  constructor(seed) {
    this.mt = new Uint32Array(624);
    this.mt[0] = seed >>> 0;
    for (let i = 1; i < 624; i++) {
      const prev = this.mt[i - 1] ^ (this.mt[i - 1] >>> 30);
      // 1812433253 * prev + i, in 32-bit arithmetic
      this.mt[i] = (((((prev & 0xffff0000) >>> 16) * 1812433253) << 16) + (prev & 0x0000ffff) * 1812433253 + i) >>> 0;
    }
    this.index = 624;
    this.gauss = null;
  }
  next32() {
    const mt = this.mt;
    if (this.index >= 624) {
      for (let k = 0; k < 624; k++) {
        const y = (mt[k] & 0x80000000) | (mt[(k + 1) % 624] & 0x7fffffff);
        mt[k] = mt[(k + 397) % 624] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      this.index = 0;
    }
    let y = mt[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }
  double() {  // 53-bit double in [0, 1), as numpy's random_double
    const a = this.next32() >>> 5, b = this.next32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }
  normal() {  // numpy's legacy_gauss: polar Box–Muller, the second value kept for the next call
    if (this.gauss !== null) { const g = this.gauss; this.gauss = null; return g; }
    let x1, x2, r2;
    do {
      x1 = 2 * this.double() - 1;
      x2 = 2 * this.double() - 1;
      r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1 || r2 === 0);
    const f = Math.sqrt(-2 * Math.log(r2) / r2);
    this.gauss = f * x1;
    return f * x2;
  }
}

export function seedToZ(seed, nz) {
  const rs = new MT19937(seed), z = new Float32Array(nz);
  for (let i = 0; i < nz; i++) z[i] = rs.normal();
  return z;
}

// ---- face codes (demo/latents.py encode_z): "z." + base64url of z as little-endian float16 -----------------------
function halfToFloat(h) {  // exact: every float16 is a float32
  const sign = h & 0x8000 ? -1 : 1, exp = (h >> 10) & 0x1f, frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}
export function codeToZ(code, nz) {  // null where the text is not a face code of nz numbers
  const body = String(code).trim().slice(2).replace(/-/g, "+").replace(/_/g, "/");
  let bin;
  try { bin = atob(body + "=".repeat((4 - body.length % 4) % 4)); } catch (e) { return null; }
  if (bin.length !== 2 * nz) return null;
  const z = new Float32Array(nz);
  for (let i = 0; i < nz; i++) z[i] = halfToFloat(bin.charCodeAt(2 * i) | (bin.charCodeAt(2 * i + 1) << 8));
  return z.every(Number.isFinite) ? z : null;
}
function isCode(face) { return typeof face === "string" && face.trim().startsWith("z."); }
export function faceZ(face, nz) {  // a seed or a face code → z (a fresh array)
  return isCode(face) ? codeToZ(face, nz) : seedToZ(Number(face), nz);
}

// ---- latent paths (demo/latents.py) -------------------------------------------------------------------------------
const f32 = Math.fround;
function lerp(a, b, t) {
  const out = new Float32Array(a.length), tt = f32(t);
  for (let i = 0; i < a.length; i++) out[i] = f32(f32(f32(1 - tt) * a[i]) + f32(tt * b[i]));
  return out;
}
function slerp(a, b, t) {
  let na = 0, nb = 0, dot = 0;
  for (let i = 0; i < a.length; i++) { na += a[i] * a[i]; nb += b[i] * b[i]; }
  na = Math.sqrt(na); nb = Math.sqrt(nb);
  for (let i = 0; i < a.length; i++) dot += (a[i] / na) * (b[i] / nb);
  const omega = Math.acos(Math.min(1, Math.max(-1, dot)));
  if (omega < 1e-6) return lerp(a, b, t);
  const s = Math.sin(omega), tt = f32(t);
  const wa = Math.sin((1 - tt) * omega) / s, wb = Math.sin(tt * omega) / s;
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = wa * a[i] + wb * b[i];
  return out;
}
export function morphZ(faceA, faceB, t, method, nz) {
  const a = faceZ(faceA, nz), b = faceZ(faceB, nz);
  if (t === 0) return a;
  if (t === 1) return b;
  return method === "lerp" ? lerp(a, b, t) : slerp(a, b, t);
}
export function editZ(face, amounts, directions, nz, named = [], namedDirections = []) {
  const z = faceZ(face, nz);
  const move = (d, k) => { if (k) for (let j = 0; j < nz; j++) z[j] += k * d[j]; };
  directions.forEach((d, i) => move(d, amounts[i] || 0));
  namedDirections.forEach((d, i) => move(d, named[i] || 0));
  return z;
}
// a directions call's values after the face: NUM_DIRECTIONS amounts, the truncation, then the named amounts
function editArgs(rest) {
  const n = config().numDirections;
  return { amounts: rest.slice(0, n).map(Number), psi: Number(rest[n]), named: rest.slice(n + 1).map(Number) };
}

// ---- the runtime --------------------------------------------------------------------------------------------
function config() { return window.animeLiveConfig || null; }

function url(path) { return new URL(path, document.baseURI).href; }

export function load() {
  if (state.loading) return state.loading;
  const cfg = config();
  state.status = "loading";
  state.loading = (async () => {
    if (!cfg || cfg.disabled) throw new Error("live mode is off");
    if (typeof WebAssembly !== "object" || typeof WebAssembly.instantiate !== "function") {
      throw new Error("this browser has no WebAssembly");
    }
    const t0 = performance.now();
    const ort = await import(url(cfg.ortDir + "ort.wasm.bundle.min.mjs"));
    ort.env.wasm.wasmPaths = url(cfg.ortDir);
    ort.env.wasm.numThreads = 1;  // threads need cross-origin isolation, which a Space does not give
    ort.env.logLevel = "error";
    state.session = await ort.InferenceSession.create(url(cfg.modelUrl), { executionProviders: ["wasm"] });
    state.ort = ort;
    state.status = "ready";
    state.loadMs = performance.now() - t0;
    return state.session;
  })().catch((e) => {
    state.status = "failed";
    state.error = String(e && e.message || e);
    console.warn("live controls: running through the server (" + state.error + ")");
    return null;
  });
  return state.loading;
}

async function renderFaces(zs) {  // zs: array of Float32Array(nz) → array of {rgb: Uint8ClampedArray(H*W*3), size}
  const cfg = config(), nz = cfg.nz, n = zs.length;
  const flat = new Float32Array(n * nz);
  zs.forEach((z, i) => flat.set(z, i * nz));
  const feeds = {};
  feeds[state.session.inputNames[0]] = new state.ort.Tensor("float32", flat, [n, nz]);
  const out = (await state.session.run(feeds))[state.session.outputNames[0]];
  const [, , h, w] = out.dims, data = out.data, [lo, hi] = cfg.pixelRange, scale = 255 / (hi - lo);
  const faces = [];
  for (let i = 0; i < n; i++) {
    const rgb = new Uint8ClampedArray(h * w * 3), base = i * 3 * h * w;
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < h * w; p++) rgb[p * 3 + c] = Math.round(f32(f32(data[base + c * h * w + p] - lo) * scale));
    }
    faces.push({ rgb, h, w });
  }
  return faces;
}

function draw(elemId, face) {
  const root = document.getElementById(elemId);
  if (!root) return;
  const img = root.querySelector("img");
  const holder = img ? img.parentElement : root;
  let canvas = root.querySelector("canvas.live-face");
  if (!canvas || canvas.parentElement !== holder) {
    if (canvas) canvas.remove();
    canvas = document.createElement("canvas");
    canvas.className = "live-face";
    // over the server's picture, drawn the way the app's CSS draws it (.bigface img: fill the box, keep the shape)
    canvas.style.cssText = "position:absolute;left:0;top:0;width:100%;height:100%;object-fit:contain;";
    canvas.width = face.w * 2;
    canvas.height = face.h * 2;
    if (getComputedStyle(holder).position === "static") holder.style.position = "relative";
    holder.appendChild(canvas);
    if (img) watchServerImage(img, canvas);
  }
  if (img) {  // exactly over the server's picture (its box, its object-fit)
    Object.assign(canvas.style, { left: img.offsetLeft + "px", top: img.offsetTop + "px",
                                  width: img.offsetWidth + "px", height: img.offsetHeight + "px" });
  }
  const small = document.createElement("canvas");
  small.width = face.w; small.height = face.h;
  const rgba = new Uint8ClampedArray(face.w * face.h * 4);
  for (let p = 0; p < face.w * face.h; p++) {
    rgba[p * 4] = face.rgb[p * 3]; rgba[p * 4 + 1] = face.rgb[p * 3 + 1]; rgba[p * 4 + 2] = face.rgb[p * 3 + 2];
    rgba[p * 4 + 3] = 255;
  }
  small.getContext("2d").putImageData(new ImageData(rgba, face.w, face.h), 0, 0);
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = "high";  // the server enlarges 2× with Lanczos; this is the browser's closest
  ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
  canvas.style.display = "";
  state.lastFaces[elemId] = face;
  state.frames++;
  state.lastFrameAt = performance.now();
  root.dataset.liveFrame = String(state.frames);
}

function watchServerImage(img, canvas) {
  // a new face from the server (a pick, a typed seed, the sync after a drag) replaces the live one on screen
  new MutationObserver(() => { canvas.style.display = "none"; }).observe(img, { attributes: true, attributeFilter: ["src"] });
}

function viaServer(buttonId) {
  const b = document.getElementById(buttonId);
  (b && b.tagName === "BUTTON" ? b : b && b.querySelector("button"))?.click();
}

function validFace(f) {  // a seed in range, or a face code of this model's nz (else the server answers, with its message)
  const cfg = config();
  if (isCode(f)) return codeToZ(f, cfg.nz) !== null;
  const s = typeof f === "string" && f.trim() !== "" ? Number(f) : f;
  return Number.isInteger(s) && s >= cfg.seedRange[0] && s <= cfg.seedRange[1];
}

// One frame at a time: while a frame renders, only the newest request waits (a fast drag skips stale positions).
async function schedule(job) {
  state.pending = job;
  if (state.busy) return;
  state.busy = true;
  try {
    while (state.pending) {
      const next = state.pending;
      state.pending = null;
      await next();
    }
  } finally {
    state.busy = false;
  }
}

// eager: without the runtime, each change goes to the server (a face per step of a drag); else once it settles
async function live(serverButton, job, eager = true) {
  if (state.status !== "ready") {
    const session = await load();
    if (!session) return eager ? viaServer(serverButton) : settle(serverButton);
  }
  if (serverButton) settle(serverButton);
  return schedule(job);
}

// ---- the server's copy of the face on screen ----------------------------------------------------------------
// A face drawn here is also asked of the server once its control settles, so that what the download button saves
// (and what the app remembers) is the face on screen, however the value changed: at once when the pointer that
// dragged it lets go, else SETTLE_MS after the last change (arrow keys, a typed value, Reset, a link). While a
// pointer is down nothing is sent: a drag costs one request, at its end.
export const SETTLE_MS = 300;
const sync = { dirty: new Set(), timer: null, pointer: false, sent: 0 };
state.sync = sync;

function settle(serverButton) {
  sync.dirty.add(serverButton);
  clearTimeout(sync.timer);
  sync.timer = setTimeout(flush, SETTLE_MS);
}

function flush() {
  clearTimeout(sync.timer);
  sync.timer = null;
  if (sync.pointer || !sync.dirty.size) return;
  // truncation's server step redraws the gallery, the picks, the in-between and the edited face: it covers the rest
  const buttons = sync.dirty.has("trunc_srv") ? ["trunc_srv"] : [...sync.dirty];
  sync.dirty.clear();
  buttons.forEach((b) => { sync.sent++; viaServer(b); });
}

function letGo(e) {
  if (e.type === "blur" && e.target !== window) return;  // an element losing focus (capture sees those too)
  sync.pointer = false;
  flush();
}
addEventListener("pointerdown", () => { sync.pointer = true; }, true);
for (const name of ["pointerup", "pointercancel", "blur"]) addEventListener(name, letGo, true);

// ---- what the app's events call ----------------------------------------------------------------------------
export function morph(seedA, seedB, t, method, truncation) {
  const cfg = config();
  if (!cfg || cfg.disabled || !validFace(seedA) || !validFace(seedB)) return viaServer("morph_srv");
  return live("morph_srv", async () => {
    const z = morphZ(seedA, seedB, Number(t), method, cfg.nz).map((v) => v * f32(truncation));
    const [face] = await renderFaces([Float32Array.from(z)]);
    draw("morph", face);
  });
}

export function directions(seed, ...rest) {
  const cfg = config();
  if (!cfg || cfg.disabled || !validFace(seed) || !(cfg.directions.length || cfg.named.length)) return viaServer("dir_srv");
  const { amounts, psi, named } = editArgs(rest);
  return live("dir_srv", async () => {
    const z = editZ(seed, amounts, cfg.directions, cfg.nz, named, cfg.named).map((v) => v * f32(psi));
    const [face] = await renderFaces([Float32Array.from(z)]);
    draw("edit", face);
  });
}

export function truncation(seedA, seedB, t, method, seed, ...rest) {
  // while the truncation slider moves: the in-between face and the edited face, in one batch
  const cfg = config();
  if (!cfg || cfg.disabled || state.status === "failed") return settle("trunc_srv");  // the server redraws it all
  const { amounts, psi, named } = editArgs(rest);
  if (![seedA, seedB, seed].every(validFace)) return settle("trunc_srv");
  return live("trunc_srv", async () => {
    const zm = morphZ(seedA, seedB, Number(t), method, cfg.nz).map((v) => v * f32(psi));
    const zd = editZ(seed, amounts, cfg.directions, cfg.nz, named, cfg.named).map((v) => v * f32(psi));
    const [fm, fd] = await renderFaces([Float32Array.from(zm), Float32Array.from(zd)]);
    draw("morph", fm);
    draw("edit", fd);
  }, false);
}

export async function faceFor(kind, args) {  // for tests and the benchmark: a face's raw pixels, drawn nowhere
  const cfg = config();
  await load();
  // morph: [a, b, t, method, psi]; edit: [face, amounts, psi, named (optional)]
  const z = kind === "morph" ? morphZ(args[0], args[1], args[2], args[3], cfg.nz)
                             : editZ(args[0], args[1], cfg.directions, cfg.nz, args[3] || [], cfg.named);
  const psi = kind === "morph" ? args[4] : args[2];
  const [face] = await renderFaces([Float32Array.from(z.map((v) => v * f32(psi)))]);
  return Array.from(face.rgb);
}

window.animeLive = { state, load, morph, directions, truncation, faceFor, seedToZ, codeToZ, faceZ, morphZ, editZ };
