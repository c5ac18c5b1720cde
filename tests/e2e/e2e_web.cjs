// e2e_web.cjs - drive the duet web page in headless Debian chromium (playwright-core):
// open the page, enter the token, upload an image through the file input (XHR with
// upload progress), and see the new version in the status view; a wrong token is
// refused on the page and changes nothing.
// Usage: node e2e_web.cjs SERVER DUET FIXTURE_ELF WORKDIR
//   SERVER is an HTTP endpoint program started as: SERVER TOKEN  (prints "listening on N")
'use strict';
const { chromium } = require('playwright-core');
const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const [server, duet, elf, work] = process.argv.slice(2);
const TOKEN = 'e2e-token-' + process.pid;

function fail(msg) { console.error('e2e_web: FAIL: ' + msg); process.exitCode = 1; }

function startServer() {
  return new Promise((resolve, reject) => {
    const p = spawn(server, [TOKEN], { stdio: ['pipe', 'pipe', 'inherit'] });
    let buf = '';
    const timer = setTimeout(() => reject(new Error('server did not start')), 10000);
    p.stdout.on('data', d => {
      buf += d;
      const m = /listening on (\d+)/.exec(buf);
      if (m) { clearTimeout(timer); resolve({ proc: p, port: Number(m[1]) }); }
    });
    p.on('exit', c => reject(new Error('server exited with ' + c)));
  });
}

async function main() {
  fs.mkdirSync(work, { recursive: true });
  const img1 = path.join(work, 'v1.duet'), img2 = path.join(work, 'v2.duet');
  execFileSync(duet, ['pack', '--chip', 'host', '--version', '1.0.0', '--name', 'e2e', '-o', img1, elf]);
  execFileSync(duet, ['pack', '--chip', 'host', '--version', '2.3.4', '--name', 'e2e', '-o', img2, elf]);
  const srv = await startServer();
  const userDir = fs.mkdtempSync(path.join(work, 'chromium-'));
  const ctx = await chromium.launchPersistentContext(userDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await ctx.newPage();
    const url = `http://127.0.0.1:${srv.port}/`;
    await page.goto(url);
    if ((await page.title()) !== 'duet') fail('page title is not duet');
    await page.waitForFunction(() => document.getElementById('state').textContent !== '?');

    // a wrong token is refused on the page, nothing changes
    await page.fill('#token', 'wrong');
    await page.setInputFiles('#file', img1);
    await page.click('#upload');
    await page.waitForFunction(() => /refused/.test(document.getElementById('result').textContent));
    const refused = await page.textContent('#result');
    if (!/401/.test(refused)) fail('expected a 401 refusal, got: ' + refused);
    if ((await page.textContent('#version')) !== '-') fail('version changed after a refused upload');

    // the right token: upload v1, then v2, and watch the status view follow
    await page.fill('#token', TOKEN);
    for (const [img, ver] of [[img1, '1.0.0'], [img2, '2.3.4']]) {
      await page.setInputFiles('#file', img);
      await page.click('#upload');
      await page.waitForFunction(v => document.getElementById('version').textContent === v, ver,
                                 { timeout: 15000 });
      const bar = await page.$eval('#bar', b => b.value);
      if (bar !== 100) fail(`progress bar at ${bar} after upload of ${ver}`);
      const res = await page.textContent('#result');
      if (!res.includes('installed e2e ' + ver)) fail('result line: ' + res);
    }
    await page.waitForFunction(() => document.getElementById('state').textContent === 'RUNNING');
    const slots = await page.$$eval('#slots tr', rows => rows.map(r => r.textContent));
    if (!slots.some(s => s.includes('2.3.4')) || !slots.some(s => s.includes('1.0.0')))
      fail('slot table does not list both versions: ' + JSON.stringify(slots));
    await page.screenshot({ path: path.join(work, 'e2e_web.png'), fullPage: true });
    console.log(process.exitCode ? 'e2e_web: failed' : 'e2e_web: 1 passed, 0 failed');
  } finally {
    await ctx.close();
    srv.proc.kill('SIGTERM');
    fs.rmSync(userDir, { recursive: true, force: true });
  }
}

main().catch(e => { fail(e.stack || String(e)); });
