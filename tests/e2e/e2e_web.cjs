// e2e_web.cjs - drive the duet web page of a REAL simulator in headless Debian chromium
// (playwright-core): duet-sim runs the portable supervisor with core 1 = a child process
// executing the counter example (v1, provisioned into slot A). Through the page: the
// status view shows counter 1.0.0 RUNNING with heartbeat and counter advancing; an upload
// with a wrong token is refused and changes nothing; counter v2 uploaded with the token
// is installed into slot B, hot-swapped, and seen in the status view (version, state,
// epoch, slot table, the core-1 log of the new program, the count continuing); the slot
// is confirmed by the supervisor after healthy heartbeats; Rollback goes back to v1. The
// loop-timing histogram and the heartbeat/progress rate charts (uPlot) exist and update.
// Usage: node e2e_web.cjs DUET_SIM COUNTER_V1_IMG COUNTER_V2_IMG WORKDIR
'use strict';
const { chromium } = require('playwright-core');
const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');

const [simExe, imgV1, imgV2, work] = process.argv.slice(2);
const TOKEN = 'e2e-token-' + process.pid;
const WAIT = { timeout: 20000 };

function fail(msg) { console.error('e2e_web: FAIL: ' + msg); process.exitCode = 1; }
function check(cond, msg) { if (!cond) fail(msg); }
const sleep = ms => new Promise(r => setTimeout(r, ms));

// duet-sim on a free port chosen by the kernel (--port 0), reported via --port-file.
async function startSim(dir) {
  const portFile = path.join(dir, 'port');
  const log = fs.openSync(path.join(dir, 'duet-sim.log'), 'w');
  const proc = spawn(simExe, ['--flash', path.join(dir, 'flash'), '--port', '0',
                              '--port-file', portFile, '--token', TOKEN,
                              '--provision', imgV1, '--status-ms', '0'],
                     { stdio: ['ignore', log, log] });
  let exited = null;
  proc.on('exit', (code, sig) => { exited = sig || code; });
  for (let i = 0; i < 150; i++) {
    if (exited !== null) {
      throw new Error('duet-sim exited early (' + exited + '): ' +
                      fs.readFileSync(path.join(dir, 'duet-sim.log'), 'utf8'));
    }
    if (fs.existsSync(portFile)) {
      const port = Number(fs.readFileSync(portFile, 'utf8').trim());
      if (port > 0) return { proc, port, exited: () => exited };
    }
    await sleep(100);
  }
  proc.kill('SIGKILL');
  throw new Error('duet-sim did not report its port within 15 s');
}

async function stopSim(sim) {
  if (!sim || sim.exited() !== null) return;
  sim.proc.kill('SIGTERM');
  for (let i = 0; i < 50 && sim.exited() === null; i++) await sleep(100);
  if (sim.exited() === null) sim.proc.kill('SIGKILL');
}

const num = async (page, id) => Number(await page.textContent('#' + id));

// Wait until the number in element #id exceeds 'than' (the page refreshes once a second).
async function waitAbove(page, id, than) {
  await page.waitForFunction(([i, t]) => Number(document.getElementById(i).textContent) > t,
                             [id, than], WAIT);
}

async function main() {
  fs.mkdirSync(work, { recursive: true });
  const dir = fs.mkdtempSync(path.join(work, 'run-'));
  let sim = null, ctx = null;
  try {
    sim = await startSim(dir);
    ctx = await chromium.launchPersistentContext(path.join(dir, 'chromium'), {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
             '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page = await ctx.newPage();
    await page.goto(`http://127.0.0.1:${sim.port}/`);
    check((await page.title()) === 'duet', 'page title is not duet');

    // v1 runs: state, name, version, and a live heartbeat and counter
    await page.waitForFunction(() => document.getElementById('state').textContent === 'RUNNING' &&
                               document.getElementById('version').textContent === '1.0.0', null, WAIT);
    check((await page.textContent('#name')) === 'counter', 'program name is not counter');
    check((await page.textContent('#slot')) === 'A', 'active slot is not A');
    const hb0 = await num(page, 'heartbeat'), cnt0 = await num(page, 'progress-counter');
    const epoch1 = await num(page, 'epoch');
    await waitAbove(page, 'heartbeat', hb0 + 2);
    await waitAbove(page, 'progress-counter', cnt0);
    await page.waitForFunction(() => /counter v1\.0\.0: \d+/.test(document.getElementById('log').textContent),
                               null, WAIT);

    // the charts (uPlot, bundled into the page): both drawn, and both follow the polls.
    // The counter marks every 100 ms tick (duet_rt_loop_mark), so the histogram's total
    // grows and the rate chart gains a point per status poll (~10 heartbeats/s).
    await page.waitForFunction(() => window.duetCharts && duetCharts.hist && duetCharts.rate &&
                               duetCharts.rate.data[0].length >= 2, null, WAIT);
    for (const id of ['timing-chart', 'rate-chart'])
      check(await page.$(`#${id} .uplot canvas`) !== null, `no uPlot canvas in #${id}`);
    const histTotal = () => page.evaluate(() =>
      duetCharts.hist.data[1].reduce((a, v) => a + (v || 0), 0));
    const ratePoints = () => page.evaluate(() => duetCharts.rate.data[0].length);
    const tot0 = await histTotal(), pts0 = await ratePoints(), cntT0 = await num(page, 't-count');
    check(tot0 > 0, 'the histogram chart holds no intervals');
    await page.waitForFunction(([t, p]) =>
      duetCharts.hist.data[1].reduce((a, v) => a + (v || 0), 0) > t &&
      duetCharts.rate.data[0].length > p, [tot0, pts0], WAIT);
    check((await num(page, 't-count')) > cntT0, 'interval count did not advance');
    check(/ms/.test(await page.textContent('#t-p99')), 'p99 not shown in ms: ' +
          await page.textContent('#t-p99'));
    const hbRates = await page.evaluate(() => duetCharts.rate.data[1].filter(v => v !== null));
    check(hbRates.some(v => v > 5 && v < 15), 'heartbeat rate not ~10/s: ' + JSON.stringify(hbRates));

    // a wrong token: refused on the page, v1 keeps running
    await page.fill('#token', 'wrong');
    await page.setInputFiles('#file', imgV2);
    await page.click('#upload');
    await page.waitForFunction(() => /refused/.test(document.getElementById('result').textContent),
                               null, WAIT);
    const refused = await page.textContent('#result');
    check(/401/.test(refused), 'expected a 401 refusal, got: ' + refused);
    await sleep(1200); // one status refresh after the refusal
    check((await page.textContent('#version')) === '1.0.0', 'version changed after a refused upload');
    check((await page.textContent('#state')) === 'RUNNING', 'v1 stopped after a refused upload');

    // the token: upload v2, hot swap, the status view follows
    await page.fill('#token', TOKEN);
    await page.setInputFiles('#file', imgV2);
    await page.click('#upload');
    await page.waitForFunction(() => /installed/.test(document.getElementById('result').textContent),
                               null, WAIT);
    const res = await page.textContent('#result');
    check(res.includes('installed counter 2.0.0 in slot B'), 'result line: ' + res);
    check((await page.$eval('#bar', b => b.value)) === 100, 'progress bar not at 100 after upload');
    await page.waitForFunction(() => document.getElementById('state').textContent === 'RUNNING' &&
                               document.getElementById('version').textContent === '2.0.0', null, WAIT);
    check((await page.textContent('#slot')) === 'B', 'active slot is not B after the upload');
    check((await num(page, 'epoch')) > epoch1, 'epoch did not advance with the swap');

    // the new program really runs: its own log line (step 10, count carried over from v1),
    // and heartbeat and counter keep advancing
    await page.waitForFunction(() => /counter v2\.0\.0 up \(epoch \d+, step 10, starting at [1-9]\d*\)/
                                 .test(document.getElementById('log').textContent), null, WAIT);
    const hb1 = await num(page, 'heartbeat'), cnt1 = await num(page, 'progress-counter');
    await waitAbove(page, 'heartbeat', hb1 + 2);
    await waitAbove(page, 'progress-counter', cnt1);
    check((await num(page, 'progress-counter')) > cnt0, 'count did not continue across the swap');

    // slot table: v1 in A, v2 in B, confirmed by the supervisor after healthy heartbeats
    await page.waitForFunction(() => [...document.querySelectorAll('#slots tr')].some(r =>
      /^B \*/.test(r.cells[0].textContent) && r.cells[1].textContent === 'CONFIRMED' &&
      r.cells[3].textContent === '2.0.0'), null, WAIT);
    const slots = await page.$$eval('#slots tr', rows => rows.map(r => r.textContent));
    check(slots.some(s => /^A.*1\.0\.0/.test(s)), 'slot A no longer lists 1.0.0: ' + JSON.stringify(slots));

    // Rollback button: back to v1 in slot A
    await page.click('button[data-act="rollback"]');
    await page.waitForFunction(() => document.getElementById('state').textContent === 'RUNNING' &&
                               document.getElementById('version').textContent === '1.0.0', null, WAIT);
    check((await page.textContent('#result')) === 'rollback: ok', 'rollback result line');
    check((await page.textContent('#slot')) === 'A', 'active slot is not A after rollback');

    await page.screenshot({ path: path.join(work, 'e2e_web.png'), fullPage: true });
  } catch (e) {
    fail(e.stack || String(e));
  } finally {
    if (ctx) await ctx.close();
    await stopSim(sim);
    if (process.exitCode) {
      const lf = path.join(dir, 'duet-sim.log');
      if (fs.existsSync(lf)) console.error('--- duet-sim log ---\n' + fs.readFileSync(lf, 'utf8'));
    }
  }
  if (!process.exitCode) fs.rmSync(dir, { recursive: true, force: true });
  console.log(process.exitCode ? 'e2e_web: failed' : 'e2e_web: 1 passed, 0 failed');
}

main().catch(e => { fail(e.stack || String(e)); console.log('e2e_web: failed'); });
