// The page's behaviour: pick or drop an image, preview it, send it to
// POST /v1/classify, and draw the scores. Plain browser JavaScript, no
// libraries, so the page works with no network beyond this server.
'use strict';

const el = (id) => document.getElementById(id);
const dropZone = el('drop-zone');
const fileInput = el('file-input');
const tokenRow = el('token-row');
const tokenInput = el('token-input');

// Readable wording for the server's stable error codes; the server's own
// message is shown under it.
const ERROR_TEXT = {
  not_an_image: 'This file is not an image the model can read. Use a PNG, JPEG or BMP file.',
  invalid_image: 'The image file is damaged or incomplete and could not be decoded.',
  image_too_large: 'The image has too many pixels for this server.',
  upload_too_large: 'The file is larger than this server accepts.',
  empty_body: 'The file is empty.',
  not_ready: 'The model is still loading. Try again in a few seconds.',
  queue_full: 'The server is busy. Try again in a few seconds.',
  timeout: 'The server took too long to answer. Try again.',
  shutting_down: 'The server is shutting down.',
  unauthorized: 'This server needs an access token. Enter it above and choose the image again.',
};

function authHeaders() {
  const token = tokenInput.value.trim();
  return token ? { Authorization: 'Bearer ' + token } : {};
}

function showError(code, message) {
  const box = el('error');
  box.textContent = '';
  const main = document.createElement('strong');
  main.textContent = ERROR_TEXT[code] || 'The image could not be classified.';
  const detail = document.createElement('div');
  detail.className = 'meta';
  detail.textContent = message ? 'Details: ' + message : '';
  box.append(main, detail);
  box.hidden = false;
  el('result').hidden = true;
  el('status').textContent = 'No result.';
  if (code === 'unauthorized') tokenRow.hidden = false;
}

function percent(score) {
  return (100 * score).toFixed(1) + '%';
}

function renderScores(body) {
  const list = el('scores');
  list.textContent = '';
  body.predictions.forEach((entry, rank) => {
    const item = document.createElement('li');
    item.dataset.label = entry.label;
    item.dataset.score = String(entry.score);
    if (rank === 0) item.classList.add('top');
    item.innerHTML =
      '<span class="label"></span>' +
      '<span class="track" role="meter" aria-valuemin="0" aria-valuemax="100">' +
      '<span class="fill"></span></span><span class="value"></span>';
    item.querySelector('.label').textContent = entry.label;
    item.querySelector('.track').setAttribute('aria-valuenow', (100 * entry.score).toFixed(1));
    item.querySelector('.track').setAttribute('aria-label', entry.label + ' score');
    item.querySelector('.fill').style.width = percent(entry.score);
    item.querySelector('.value').textContent = percent(entry.score);
    list.append(item);
  });
  el('predicted-label').textContent = body.predicted_label;
  el('result-meta').textContent =
    `Model ${body.model.name} (revision ${body.model.revision}), ` +
    `${Math.round(body.timing_ms.total)} ms.`;
  el('error').hidden = true;
  el('result').hidden = false;
  el('status').textContent = 'Done.';
}

async function classify(file) {
  el('status').textContent = 'Classifying…';
  el('error').hidden = true;
  const form = new FormData();
  form.append('image', file, file.name);
  let response;
  try {
    response = await fetch('/v1/classify', { method: 'POST', body: form, headers: authHeaders() });
  } catch (err) {
    showError('network', 'The server could not be reached (' + err.message + ').');
    return;
  }
  let body = null;
  try {
    body = await response.json();
  } catch (err) {
    body = null;
  }
  if (!response.ok || !body || !body.predictions) {
    const error = (body && body.error) || {};
    showError(error.code, error.message || 'HTTP ' + response.status);
    return;
  }
  renderScores(body);
}

function choose(file) {
  if (!file) return;
  const image = el('preview-image');
  if (image.src) URL.revokeObjectURL(image.src);
  image.onerror = () => { el('preview').hidden = true; };  // not an image the browser shows
  image.src = URL.createObjectURL(file);
  el('preview-name').textContent = file.name;
  el('preview').hidden = false;
  classify(file);
}

async function loadModelLine() {
  const line = el('model-line');
  try {
    const response = await fetch('/v1/model', { headers: authHeaders() });
    const body = await response.json();
    if (response.status === 401) {
      tokenRow.hidden = false;
      line.textContent = 'Enter the access token to use this server.';
    } else if (response.status === 503) {
      line.textContent = 'The model is loading…';
      setTimeout(loadModelLine, 2000);
    } else if (response.ok) {
      const size = body.input_size;
      line.textContent = `Model ${body.name}, revision ${body.revision}; ` +
        `labels: ${body.labels.join(', ')}; input ${size.width}x${size.height}.`;
    }
  } catch (err) {
    line.textContent = 'Model information unavailable.';
  }
}

fileInput.addEventListener('change', () => choose(fileInput.files[0]));
dropZone.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' || event.key === ' ') {
    event.preventDefault();
    fileInput.click();
  }
});
['dragenter', 'dragover'].forEach((name) => dropZone.addEventListener(name, (event) => {
  event.preventDefault();
  dropZone.classList.add('dragging');
}));
['dragleave', 'drop'].forEach((name) => dropZone.addEventListener(name, (event) => {
  event.preventDefault();
  dropZone.classList.remove('dragging');
}));
dropZone.addEventListener('drop', (event) => choose(event.dataTransfer.files[0]));
tokenInput.addEventListener('change', loadModelLine);
loadModelLine();
