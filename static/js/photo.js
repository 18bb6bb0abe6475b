// A photo is shrunk on the phone before it is kept or sent: upright, long edge <= 2048 px, JPEG ~0.8.
const MAX_EDGE = 2048;
const MAX_CANVAS_PIXELS = 16777216; // iOS fails silently above this
const QUALITY = 0.8;

export async function sha256Hex(blob) {
  const digest = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export async function compressPhoto(file) {
  const bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  try {
    let scale = Math.min(1, MAX_EDGE / Math.max(bitmap.width, bitmap.height));
    while (Math.round(bitmap.width * scale) * Math.round(bitmap.height * scale) > MAX_CANVAS_PIXELS) scale *= 0.9;
    const width = Math.max(1, Math.round(bitmap.width * scale));
    const height = Math.max(1, Math.round(bitmap.height * scale));
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    const context = canvas.getContext('2d');
    context.fillStyle = '#fff';
    context.fillRect(0, 0, width, height);
    context.drawImage(bitmap, 0, 0, width, height);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', QUALITY));
    if (!blob || blob.size === 0) throw new Error('empty photo');
    return { blob, width, height, sha256: await sha256Hex(blob) };
  } finally {
    bitmap.close();
  }
}
