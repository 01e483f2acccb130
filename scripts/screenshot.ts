// Screenshot a page of the running app: tsx scripts/screenshot.ts URL OUT.png [JS to run first]
import { launchBrowser } from '../test/support/app';
const b = await launchBrowser();
const p = await b.newPage({ viewport: { width: 1360, height: 860 } });
await p.goto(process.argv[2]!);
await p.waitForTimeout(1500);
if (process.argv[4]) { await p.evaluate(process.argv[4]); await p.waitForTimeout(800); }
await p.screenshot({ path: process.argv[3]! });
await b.close();
