// Office and gate forms: a photo chosen in <input type="file" data-shrink> is shrunk on the phone
// before it is sent (upright, long edge <= 2048 px, JPEG), as the steward's photos are. A photo the
// phone cannot shrink is sent as it was taken, and the form says so.
import { compressPhoto } from './photo.js';

for (const input of document.querySelectorAll('input[type=file][data-shrink]')) {
  const form = input.form;
  const status = document.createElement('p');
  status.className = 'field-hint shrink-status';
  status.setAttribute('aria-live', 'polite');
  input.after(status);
  let working = null;
  input.addEventListener('change', () => {
    const files = [...input.files];
    if (!files.length || files.every((f) => f.name.startsWith('shrunk-'))) return;
    working = (async () => {
      const shrunk = new DataTransfer();
      let failed = false;
      for (const file of files) {
        try {
          const { blob } = await compressPhoto(file);
          shrunk.items.add(new File([blob], `shrunk-${file.name.replace(/\.[^.]*$/, '')}.jpg`, { type: 'image/jpeg' }));
        } catch (error) {
          failed = true;
          shrunk.items.add(file);
        }
      }
      input.files = shrunk.files;
      input.dataset.shrunk = failed ? 'failed' : 'done';
      status.textContent = failed ? input.dataset.shrinkFailed : '';
    })().finally(() => { working = null; });
  });
  form?.addEventListener('submit', async (event) => {
    if (!working || form.dataset.waited) return;
    event.preventDefault(); // wait for the photo, then send
    await working;
    form.dataset.waited = '1';
    form.requestSubmit(event.submitter ?? undefined);
  });
}
