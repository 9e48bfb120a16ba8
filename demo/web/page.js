// What the page does for a visitor beyond Gradio's components: both picked faces outlined and lettered, words for
// screen readers on every face (alt text, button labels), one Tab stop a face, and "Copy link" that says it copied.
// Plain DOM work on what Gradio renders; nothing here talks to the server.

const FACE_LABELS = {  // single faces: what each one is
  thumb_a: "Picked face A", thumb_b: "Picked face B", end_a: "Face A", end_b: "Face B",
  morph: "The in-between face", edit: "The edited face", anim: "The morph as an animation",
  gray: "The picture in gray, as the colouriser sees it", colorized: "The coloured picture",
};

function galleryAlt(id, caption) {
  const text = (caption || "").trim();
  if (id === "gallery") {
    const [seed, , mark] = text.split(" ");
    return `Generated face ${seed}` + (mark ? `, picked as ${mark}` : "") + ": press to pick it";
  }
  if (id === "variations") {
    const m = text.match(/^(\d+)(?: #(\d+))?/);
    return m && m[2] ? `Variation ${m[2]} of face ${m[1]}` : `Face ${text}, the original`;
  }
  if (id === "path") {
    const m = text.match(/t=([\d.]+)/);
    return m ? `Morph frame ${Math.round(Number(m[1]) * 100)}% of the way from A to B` : `Morph frame ${text}`;
  }
  return text;
}

function label() {
  for (const id of ["gallery", "variations", "path"]) {
    const root = document.getElementById(id);
    if (!root) continue;
    root.querySelectorAll("button.thumbnail-item").forEach((button) => {
      const caption = button.querySelector(".caption-label")?.textContent || "";
      const alt = galleryAlt(id, caption);
      const img = button.querySelector("img");
      if (img && img.alt !== alt) img.alt = alt;
      if (button.getAttribute("aria-label") !== alt) button.setAttribute("aria-label", alt);
      if (id === "gallery") {
        button.classList.toggle("picked-a", / · A\b/.test(caption));
        button.classList.toggle("picked-b", / · B\b/.test(caption));
      }
      button.querySelectorAll("[tabindex]:not([tabindex='-1'])").forEach((e) => e.setAttribute("tabindex", "-1"));
    });
  }
  for (const [id, words] of Object.entries(FACE_LABELS)) {
    const root = document.getElementById(id);
    if (!root) continue;
    const img = root.querySelector("img");
    if (img && img.alt !== words) img.alt = words;
    const button = img && img.closest("button");
    if (button && button.getAttribute("aria-label") !== words) button.setAttribute("aria-label", words);
  }
}

let queued = false;
new MutationObserver(() => {
  if (queued) return;
  queued = true;
  requestAnimationFrame(() => { queued = false; label(); });
}).observe(document.documentElement, { childList: true, subtree: true, characterData: true, attributes: true,
                                        attributeFilter: ["alt", "src", "aria-label"] });

export function copied(button) {
  // the visitor sees that the link was taken: the button says so for two seconds
  const b = button && (button.tagName === "BUTTON" ? button : button.querySelector("button"));
  if (!b) return;
  const before = b.dataset.label || b.textContent;
  b.dataset.label = before;
  b.textContent = "✓ Link copied";
  clearTimeout(b._copiedTimer);
  b._copiedTimer = setTimeout(() => { b.textContent = before; }, 2000);
}

window.animePage = { label, copied, galleryAlt };
