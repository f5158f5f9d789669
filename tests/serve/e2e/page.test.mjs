// End-to-end test of the web page: starts `bcd serve` with a model, drives the
// page in Debian's headless Chromium with the keyboard on a phone-sized
// screen, uploads a BUSI image, reads the three scores off the page and
// compares them with `bcd predict` on the same file; drops a second image on
// the drop zone and compares again; then a text file must give a readable
// error. Keeps screenshots in tests/serve/e2e/screenshots/.
//
// Exit codes: 0 pass, 1 fail, 77 skipped (no model, data, chromium or npm packages).
// Setup: apt-get install chromium; (cd tests/serve/e2e && npm ci)

import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync }
  from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const bcd = process.env.BCD_BIN || path.join(root, 'build/bcd');
const model = process.env.BCD_MODEL || path.join(root, 'tests/fixtures/model/vit_h48_i224');
const dataDir = process.env.BCD_DATA_DIR || path.join(root, '../shared/data');
const image = path.join(dataDir, 'busi/malignant/malignant (1).png');
const droppedImage = path.join(dataDir, 'busi/benign/benign (2).png');
const chromiumPath = process.env.BCD_CHROMIUM || '/usr/bin/chromium';
const screenshots = path.join(here, 'screenshots');

// Chromium flags for a sandboxless container with no network beyond loopback.
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
  '--no-first-run', '--disable-background-networking', '--disable-component-update',
  '--disable-sync'];
// The page shows percentages with one decimal; the raw score rides in data-score.
const DISPLAY_TOLERANCE = 0.05 + 1e-9;  // percentage points
const SCORE_TOLERANCE = 1e-5;  // a batch of one vs predict's batch may round differently

function skip(why) {
  console.log(`SKIP: ${why}`);
  process.exit(77);
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function loadPlaywright() {
  try {
    return await import('playwright-core');
  } catch {
    return skip('playwright-core is not installed; run (cd tests/serve/e2e && npm ci)');
  }
}

// Starts bcd serve on a free port; resolves with {proc, url} once /readyz is 200.
async function startServer() {
  const proc = spawn(bcd, ['serve', '--model', model, '--port', '0', '--threads', '2'],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr.on('data', (chunk) => { log += chunk; });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const match = log.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
    if (match) {
      const ready = await fetch(`${match[1]}/readyz`).then((r) => r.ok, () => false);
      if (ready) return { proc, url: match[1], log: () => log };
    }
    if (proc.exitCode !== null) throw new Error(`bcd serve exited early:\n${log}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  proc.kill('SIGKILL');
  throw new Error(`bcd serve was not ready within 60 s:\n${log}`);
}

function stopServer(server) {
  return new Promise((resolve) => {
    server.proc.on('exit', (code) => resolve(code));
    server.proc.kill('SIGTERM');
  });
}

// {file: {label: score}} from `bcd predict` on `files`.
function predictScores(files) {
  const out = execFileSync(bcd, ['predict', '--model', model, ...files], { encoding: 'utf8' });
  const results = JSON.parse(out);
  check(results.length === files.length, `unexpected bcd predict output: ${out}`);
  return Object.fromEntries(results.map((r) => {
    check(Array.isArray(r.scores), `no scores for ${r.path} in bcd predict's output: ${out}`);
    return [r.path, Object.fromEntries(r.scores.map((s) => [s.label, s.score]))];
  }));
}

// Drops `file` on the drop zone as a user dragging it from a file manager would.
async function dropFile(page, file) {
  const payload = { base64: readFileSync(file).toString('base64'), name: path.basename(file) };
  const transfer = await page.evaluateHandle(({ base64, name }) => {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const data = new DataTransfer();
    data.items.add(new File([bytes], name, { type: 'image/png' }));
    return data;
  }, payload);
  await page.dispatchEvent('#drop-zone', 'dragenter', { dataTransfer: transfer });
  await page.dispatchEvent('#drop-zone', 'drop', { dataTransfer: transfer });
  await page.waitForFunction(
    () => document.getElementById('status').textContent !== 'Classifying…');
}

// Chooses `file` through the keyboard: Tab to the drop zone, Enter opens the chooser.
async function chooseWithKeyboard(page, file) {
  await page.locator('body').focus();
  let focused = '';
  for (let i = 0; i < 10 && focused !== 'drop-zone'; ++i) {
    await page.keyboard.press('Tab');
    focused = await page.evaluate(() => document.activeElement && document.activeElement.id);
  }
  check(focused === 'drop-zone', 'the drop zone cannot be reached with Tab');
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'),
    page.keyboard.press('Enter')]);
  await chooser.setFiles(file);
}

async function readScores(page) {
  await page.locator('#result').waitFor({ state: 'visible', timeout: 30_000 });
  const items = await page.locator('#scores li').evaluateAll((lis) => lis.map((li) => ({
    label: li.dataset.label,
    score: Number(li.dataset.score),
    shown: li.querySelector('.value').textContent,
  })));
  const predicted = await page.locator('#predicted-label').textContent();
  return { items, predicted };
}

function compareScores(shown, expected) {
  check(shown.items.length === 3, `expected 3 scores on the page, found ${shown.items.length}`);
  for (const item of shown.items) {
    check(item.label in expected, `label ${item.label} is not in bcd predict's output`);
    const percent = Number(item.shown.replace('%', ''));
    const want = 100 * expected[item.label];
    check(Math.abs(percent - want) <= DISPLAY_TOLERANCE,
      `${item.label}: page shows ${item.shown}, bcd predict says ${want.toFixed(4)}%`);
    check(Math.abs(item.score - expected[item.label]) <= SCORE_TOLERANCE,
      `${item.label}: page score ${item.score}, bcd predict ${expected[item.label]}`);
  }
  const best = Object.entries(expected).sort((a, b) => b[1] - a[1])[0][0];
  check(shown.predicted === best, `page predicts ${shown.predicted}, bcd predict ${best}`);
}

async function checkErrorMessage(page) {
  const notes = path.join(mkdtempSync(path.join(tmpdir(), 'bcd-e2e-')), 'notes.png');
  writeFileSync(notes, 'this is a text file, not an ultrasound image\n');
  await chooseWithKeyboard(page, notes);
  const box = page.locator('#error');
  await box.waitFor({ state: 'visible', timeout: 10_000 });
  const text = await box.textContent();
  check(/not an image/i.test(text), `unexpected error text for a text file: ${text}`);
  rmSync(path.dirname(notes), { recursive: true, force: true });
  return text;
}

async function main() {
  if (!existsSync(bcd)) skip(`no bcd binary at ${bcd}`);
  if (!existsSync(path.join(model, 'model.safetensors'))) skip(`no model at ${model}`);
  for (const file of [image, droppedImage]) {
    if (!existsSync(file)) skip(`no BUSI image at ${file} (set BCD_DATA_DIR)`);
  }
  if (!existsSync(chromiumPath)) skip(`no chromium at ${chromiumPath}; apt-get install chromium`);
  const { chromium } = await loadPlaywright();

  const expectedAll = predictScores([image, droppedImage]);
  const expected = expectedAll[image];
  const server = await startServer();
  const profile = mkdtempSync(path.join(tmpdir(), 'bcd-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath, args: CHROMIUM_ARGS, headless: true,
      viewport: { width: 390, height: 844 }, offline: false,
    });
    const page = context.pages()[0] || await context.newPage();
    // A standing listener turns on file-chooser interception now; enabled only
    // inside waitForEvent it can come too late, and the Enter key then opens
    // the (invisible) native dialog instead.
    page.on('filechooser', () => {});
    const external = [];
    page.on('request', (req) => {
      const url = req.url();  // blob: URLs are the local preview
      if (!url.startsWith(server.url) && !url.startsWith('blob:')) external.push(url);
    });
    await page.goto(server.url + '/');
    const notice = await page.locator('.notice').textContent();
    check(/not a diagnosis/i.test(notice), 'the decision-support notice is missing');

    await chooseWithKeyboard(page, image);
    const shown = await readScores(page);
    compareScores(shown, expected);
    mkdirSync(screenshots, { recursive: true });
    await page.screenshot({ path: path.join(screenshots, 'page_result.png'), fullPage: true });

    await dropFile(page, droppedImage);
    const dropped = await readScores(page);
    compareScores(dropped, expectedAll[droppedImage]);
    check(await page.locator('#preview-name').textContent() === path.basename(droppedImage),
      'the preview does not show the dropped file');

    const errorText = await checkErrorMessage(page);
    await page.screenshot({ path: path.join(screenshots, 'page_error.png'), fullPage: true });
    check(external.length === 0, `the page fetched from elsewhere: ${external.join(', ')}`);
    console.log(`page scores: ${shown.items.map((i) => `${i.label} ${i.shown}`).join(', ')}`);
    console.log(`bcd predict: ${JSON.stringify(expected)}`);
    console.log(`dropped: ${dropped.items.map((i) => `${i.label} ${i.shown}`).join(', ')}`);
    console.log(`error shown for a text file: ${errorText.trim()}`);
  } finally {
    if (context) await context.close();
    rmSync(profile, { recursive: true, force: true });
    const code = await stopServer(server);
    check(code === 0, `bcd serve exited ${code} after SIGTERM:\n${server.log()}`);
  }
  console.log('PASS');
}

main().catch((err) => {
  console.error(`FAIL: ${err.message}`);
  process.exit(1);
});
