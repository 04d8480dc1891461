// The decoded digit at the selected z, as an <img> of a 28x28 PNG data URL
// upscaled crisply by CSS: no media-file round trip after a slider move.
export default function (component) {
  const { data, parentElement } = component;
  let img = parentElement.querySelector("img.vae-digit");
  if (!img) {
    const figure = document.createElement("figure");
    figure.className = "vae-digit-figure";
    img = document.createElement("img");
    img.className = "vae-digit";
    img.dataset.testid = "vae-digit";
    const caption = document.createElement("figcaption");
    figure.append(img, caption);
    parentElement.appendChild(figure);
  }
  img.alt = data.alt;
  img.style.maxWidth = `${data.size}px`;
  parentElement.querySelector("figcaption").textContent = data.caption;
  if (img.src !== data.src) img.src = data.src;
  // The z shown: a tiny move of z can give the very same picture (src).
  img.dataset.z = data.z;
}
