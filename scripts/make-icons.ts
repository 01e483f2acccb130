// Renders the app and tray icons (resources/*.png) from one SVG: tsx scripts/make-icons.ts
import { launchBrowser } from '../test/support/app';
const svg = (s: number) => `<svg xmlns="http://www.w3.org/2000/svg" width="${s}" height="${s}" viewBox="0 0 64 64"><defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#00D4FF"/><stop offset="1" stop-color="#00FF88"/></linearGradient></defs><rect x="2" y="2" width="60" height="60" rx="14" fill="#0b0e14" stroke="url(#g)" stroke-width="4"/><path d="M14 44 L26 28 L36 36 L50 18" fill="none" stroke="url(#g)" stroke-width="6" stroke-linecap="round" stroke-linejoin="round"/></svg>`;
const b = await launchBrowser();
for (const [name, size] of [['icon.png', 512], ['tray.png', 32]] as const) {
  const p = await b.newPage({ viewport: { width: size, height: size } });
  await p.setContent(`<html><body style="margin:0;background:transparent">${svg(size)}</body></html>`);
  await p.screenshot({ path: `resources/${name}`, omitBackground: true });
}
await b.close();
