// func-web in a real headless Chromium (Debian's chromium, driven by puppeteer-core): log in with a token,
// see the fleet, run test.ping on a glob and watch every host arrive, open the job, rerun a job's failed
// hosts, sign a waiting minion.
// A screenshot of each page lands in a temp dir (its path printed). Fleet on 127.181.0.2..5.

import { strict as assert } from "node:assert";
import { createHash, X509Certificate } from "node:crypto";
import { copyFileSync, existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { createKeyAndCsr, homePaths, signedCertFile, type HomePaths } from "@func/shared";
import { submitCsr } from "@func/overlord";
import { TokenStore, loadWebConfig, startWebServer, type WebServer } from "@func/web";
import { startFleet, type TestFleet } from "./helpers/fleet.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

describe("func-web in a browser", function () {
  this.timeout(180_000);
  let fleet: TestFleet | undefined;
  let paths: HomePaths;
  let web: WebServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let token: string;
  const shots = mkdtempSync(join(tmpdir(), "func-web-shots-"));
  const problems: string[] = [];

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      console.log(`    (skipped: no chromium at ${CHROMIUM}: apt-get install -y --no-install-recommends chromium)`);
      return this.skip();
    }
    fleet = await startFleet("web-browser", 181, 4);
    paths = homePaths(fleet.home);
    token = new TokenStore(paths).create("browser", "admin", 3600).token;
    const { csrPem } = await createKeyAndCsr({ commonName: "newcomer" });
    await submitCsr(paths, csrPem, { address: "127.181.0.99", port: 51234 });
    web = await startWebServer(paths, loadWebConfig(paths), { listenAddr: "127.181.0.1", port: 0 });
    // trust exactly func-web's key (Chromium has no func CA in its store): its SPKI hash
    const spki = new X509Certificate(readFileSync(join(paths.pkiDir, "web.crt"))).publicKey.export({ type: "spki", format: "der" });
    const pin = createHash("sha256").update(spki).digest("base64");
    try {
      browser = await puppeteer.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", `--ignore-certificate-errors-spki-list=${pin}`],
        protocolTimeout: 120_000,
      });
    } catch (err) {
      console.log(`    (skipped: chromium did not start: ${(err as Error).message.split("\n")[0]})`);
      return this.skip();
    }
    page = await browser.newPage();
    await page.setViewport({ width: 1200, height: 800 });
    page.setDefaultTimeout(60_000);
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(m.text());
    });
    page.on("pageerror", (e) => problems.push(String(e)));
    page.on("dialog", (d) => void d.accept());
  });

  after(async () => {
    await browser?.close();
    await web?.close();
    await fleet?.stop();
    console.log(`    screenshots: ${shots}`);
  });

  const shot = async (name: string) => {
    const file = join(shots, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    return file;
  };

  it("logs in with a token and shows the fleet", async () => {
    await page.goto(web!.url);
    await page.waitForSelector("#login-token");
    // the page asked for a session first and got the 401 that shows the login form: expected
    problems.length = 0;
    await page.type("#login-token", token);
    await page.click("#login-go");
    await page.waitForSelector("#fleet-table tbody tr");
    const names = await page.$$eval("#fleet-table tbody tr", (rows) => rows.map((r) => r.getAttribute("data-minion")));
    assert.deepEqual(names, ["minion01", "minion02", "minion03", "minion04"]);
    assert.equal(await page.$eval("#count-waiting b", (b) => b.textContent), "1");
    await page.type("#fleet-filter", "minion0[1-2]");
    await page.waitForFunction('document.querySelectorAll("#fleet-table tbody tr").length === 2');
    // the fact filter narrows what the glob shows: every local minion has a cpu, none has a million
    await page.type("#fleet-facts", "cpus>1000000");
    await page.click("#fleet-facts-apply");
    await page.waitForFunction('document.querySelectorAll("#fleet-table tbody tr").length === 0');
    assert.match(await page.$eval("#fleet-facts-status", (e) => e.textContent ?? ""), /facts: 0 matched of 4/);
    await page.$eval("#fleet-facts", (el) => void ((el as unknown as { value: string }).value = ""));
    await page.type("#fleet-facts", "cpus>=1,os~a");
    await page.click("#fleet-facts-any");
    await page.click("#fleet-facts-apply");
    await page.waitForFunction('document.querySelectorAll("#fleet-table tbody tr").length === 2');
    assert.match(await page.$eval("#fleet-facts-status", (e) => e.textContent ?? ""), /facts: 4 matched of 4/);
    const cookies = await page.cookies();
    const session = cookies.find((c) => c.name === "func_session")!;
    assert.ok(session.httpOnly && session.secure && session.sameSite === "Strict");
    await shot("fleet");
  });

  it("runs test.ping on a glob and shows every host arriving, with the histogram", async () => {
    await page.goto(`${web!.url}#run`);
    await page.waitForSelector('#run-method option[value="ping"]');
    await page.$eval("#run-spec", (el) => void ((el as unknown as { value: string }).value = ""));
    await page.type("#run-spec", "minion0*");
    await page.waitForSelector('#run-matches[data-count="4"]');
    await page.select("#run-module", "test");
    await page.select("#run-method", "ping");
    await page.click("#run-go");
    await page.waitForSelector('#run-summary[data-done="1"]');
    const rows = await page.$$eval("#run-results tbody tr", (trs) => trs.map((tr) => [tr.getAttribute("data-host"), tr.querySelector(".badge")?.textContent]));
    assert.deepEqual(rows, [["minion01", "ok"], ["minion02", "ok"], ["minion03", "ok"], ["minion04", "ok"]]);
    assert.equal(await page.$eval("#run-progress", (e) => e.textContent), "4 / 4");
    assert.ok((await page.$$("#run-histogram .bar")).length > 0);
    await page.click("#run-fold");
    await page.waitForFunction('document.querySelectorAll("#run-results tbody tr.folded").length === 1');
    const file = await shot("run");
    if (process.env.FUNC_WEB_SCREENSHOT) copyFileSync(file, process.env.FUNC_WEB_SCREENSHOT);
  });

  it("opens the job from the history and drills down to its hosts", async () => {
    await page.goto(`${web!.url}#jobs`);
    await page.waitForSelector("#jobs-table tbody tr");
    await page.click("#jobs-table tbody tr");
    await page.waitForSelector("#job-hosts tbody tr");
    const hosts = await page.$$eval("#job-hosts tbody tr", (trs) => trs.map((tr) => tr.getAttribute("data-host")));
    assert.deepEqual(hosts, ["minion01", "minion02", "minion03", "minion04"]);
    assert.match((await page.$eval("#job-counts", (e) => e.textContent)) ?? "", /4 \/ 4 done: 4 ok/);
    assert.equal(await page.$eval("#job-rerun", (b) => b.hasAttribute("disabled")), true);
    await shot("job");
  });

  it("reruns the failed hosts of a job from its page", async () => {
    await page.goto(`${web!.url}#run`);
    await page.waitForSelector('#run-method option[value="ping"]');
    await page.select("#run-module", "test");
    await page.select("#run-method", "explode");
    await page.waitForSelector("#arg-message");
    await page.type("#arg-message", "boom");
    await page.click("#run-go");
    await page.waitForSelector('#run-summary[data-done="1"]');
    const job = await page.$eval("#run-live a", (a) => a.textContent);
    await page.goto(`${web!.url}#jobs/${job}`);
    await page.waitForSelector("#job-rerun:not([disabled])");
    assert.match((await page.$eval("#job-rerun", (b) => b.textContent)) ?? "", /the 4 failed host/);
    await page.click("#job-rerun");
    await page.waitForSelector('#rerun-live #run-summary[data-done="1"]');
    const rows = await page.$$eval("#rerun-live #run-results tbody tr", (trs) => trs.map((tr) => [tr.getAttribute("data-host"), tr.querySelector(".badge")?.textContent, tr.querySelector(".value")?.textContent]));
    assert.deepEqual(rows.map((r) => r.slice(0, 2)), [["minion01", "error"], ["minion02", "error"], ["minion03", "error"], ["minion04", "error"]]);
    assert.match(rows[0]![2] ?? "", /boom/);
    await shot("rerun");
  });

  it("signs a waiting minion from the admin page after a confirmation", async () => {
    await page.goto(`${web!.url}#admin`);
    await page.waitForSelector("#sign-newcomer");
    await page.click("#sign-newcomer");
    await page.waitForFunction('document.querySelector("#admin-message")?.textContent === "signed newcomer"');
    assert.ok(existsSync(signedCertFile(paths, "newcomer")));
    assert.ok(await page.$('#admin-signed tr[data-minion="newcomer"]'));
    await shot("admin");
  });

  it("met no script error and no Content-Security-Policy refusal", () => {
    assert.deepEqual(problems, []);
  });
});
