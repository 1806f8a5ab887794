// docs/*.md → HTML pages served with the app under docs/ (vite.config.ts serves them in dev and
// writes them into the build), so the lab's "More in the docs" links open readable pages offline.
import { marked } from 'marked';

const style = `body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;line-height:1.55;color:#1d2430}
code,pre{background:#f1f3f7;border-radius:4px}pre{padding:.6rem;overflow:auto}code{padding:0 .2rem}
table{border-collapse:collapse}th,td{border:1px solid #d3dae5;padding:.2rem .5rem}a{color:#2457b8}`;

/** One docs page as a standalone HTML document; links to other .md pages point at their .html. */
export function renderDocPage(name: string, markdown: string): string {
  const body = (marked.parse(markdown, { async: false }) as string).replace(/href="([\w./-]+)\.md(#[\w-]+)?"/g, (_, page: string, anchor = '') => `href="${page.replace(/^\.\//, '')}.html${anchor}"`);
  const title = /^#\s+(.+)$/m.exec(markdown)?.[1] ?? name;
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title.replace(/[<&]/g, '')} — Compression Lab</title><style>${style}</style></head><body><p><a href="../">← Back to the lab</a></p>\n${body}</body></html>\n`;
}
