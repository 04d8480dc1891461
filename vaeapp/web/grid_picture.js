// A picture of an n x n grid of digits; a click reports the cell [row, col].
export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  let img = parentElement.querySelector("img.vae-grid");
  if (!img) {
    img = document.createElement("img");
    img.className = "vae-grid";
    img.dataset.testid = "vae-grid";
    img.alt = "manifold grid of decoded digits";
    parentElement.appendChild(img);
    img.addEventListener("click", (e) => {
      const box = img.getBoundingClientRect();
      const n = Number(img.dataset.n);
      const col = Math.floor(((e.clientX - box.left) / box.width) * n);
      const row = Math.floor(((e.clientY - box.top) / box.height) * n);
      if (row >= 0 && row < n && col >= 0 && col < n) setTriggerValue("cell", [row, col]);
    });
  }
  img.dataset.n = String(data.n);
  if (img.src !== data.src) img.src = data.src;
}
