// The owner's report page: photos are shrunk on the phone before they are sent (a small canvas,
// at most data-shrink pixels on the long edge, JPEG), at most data-max of them. The input is
// marked data-ready once its files are replaced, so the form never sends a half-done set.
const input = document.querySelector("input[type=file][data-shrink]");
const strings = JSON.parse(document.getElementById("owner-strings")?.textContent || "{}");

async function shrink(file, edge) {
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  const scale = Math.min(1, edge / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.82));
  return new File([blob], file.name.replace(/\.\w+$/, "") + ".jpg", { type: "image/jpeg" });
}

if (input) {
  const note = input.parentElement.querySelector(".photo-note");
  const say = (text) => { note.textContent = text; note.hidden = !text; };
  input.addEventListener("change", async () => {
    input.dataset.ready = "";
    const max = Number(input.dataset.max || 3);
    const files = [...input.files];
    if (files.length > max) {
      say(strings.too_many || "");
      input.value = "";
      input.dataset.ready = "1";
      return;
    }
    say(strings.shrinking || "");
    const form = input.form;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const list = new DataTransfer();
      for (const file of files) {
        try {
          list.items.add(await shrink(file, Number(input.dataset.shrink)));
        } catch {
          list.items.add(file); // not decodable here: the server checks it and says why
        }
      }
      input.files = list.files;
      say((strings.ready || "%(num)s").replace("%(num)s", String(list.files.length)));
    } finally {
      button.disabled = false;
      input.dataset.ready = "1";
    }
  });
}
