/**
 * The dashboard screenshots docs/dashboard.md embeds can be trusted: every image it references is
 * in docs/img and recorded in docs/img/manifest.json (with its real size), nothing is recorded that
 * is not there, the caption says the recorded commit and date, and that commit is a clean one in
 * this repository's history. A fast file check: it takes no screenshots (`npm run docs:screenshots`
 * does, tooling/docs-screenshots.ts). Plus the manifest helpers the script writes with.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  CAPTION_MARKER,
  DOCS_PAGE,
  IMAGES_DIR,
  MANIFEST_PATH,
  captionLine,
  parseManifest,
  pngSize,
  renderReadme,
  withCaption,
  type ScreenshotManifest,
} from '../../tooling/docs-shots/manifest.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const docsPage = readFileSync(path.join(repo, DOCS_PAGE), 'utf8');
const manifest = parseManifest(readFileSync(path.join(repo, MANIFEST_PATH), 'utf8'));
/** The images docs/dashboard.md embeds, as paths inside docs/img. */
const referenced = [...docsPage.matchAll(/!\[[^\]]*\]\(img\/([^)\s]+)\)/g)].map((match) => match[1]!);

describe('the screenshots in docs/dashboard.md', () => {
  it('embeds the screenshots, each one a PNG in docs/img recorded in the manifest with its size', () => {
    expect(referenced.length).toBeGreaterThanOrEqual(5);
    const recorded = new Map(manifest.images.map((image) => [image.file, image]));
    for (const file of referenced) {
      const on = path.join(repo, IMAGES_DIR, file);
      expect([file, existsSync(on)]).toEqual([file, true]);
      expect([file, recorded.has(file)]).toEqual([file, true]);
      const { width, height } = recorded.get(file)!;
      expect([file, pngSize(readFileSync(on))]).toEqual([file, { width, height }]);
    }
  });

  it('records only images that are there, and every image there is recorded', () => {
    const present = readdirSync(path.join(repo, IMAGES_DIR)).filter((file) => file.endsWith('.png')).sort();
    expect(manifest.images.map((image) => image.file).sort()).toEqual(present);
  });

  it('captions them with the commit and date of the manifest, and docs/img/README.md says the same', () => {
    const lines = docsPage.split('\n');
    expect(lines[lines.indexOf(CAPTION_MARKER) + 1]).toBe(captionLine(manifest));
    expect(readFileSync(path.join(repo, IMAGES_DIR, 'README.md'), 'utf8')).toBe(renderReadme(manifest));
  });

  it('were taken from a commit of this history, not from uncommitted code', (context) => {
    expect(manifest.commit, 'taken from a tree with uncommitted changes: commit them, rerun `npm run docs:screenshots` and commit what it writes').not.toMatch(/\+dirty$/);
    const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    try {
      git('rev-parse', '--git-dir');
    } catch (err) {
      context.skip(`not checking that ${manifest.commit} is an ancestor of HEAD: no git repository here (${(err as Error).message.split('\n')[0]})`);
    }
    let known = true;
    try {
      git('cat-file', '-e', `${manifest.commit}^{commit}`);
    } catch {
      known = false;
    }
    if (!known && git('rev-parse', '--is-shallow-repository') === 'true') {
      context.skip(`not checking that ${manifest.commit} is an ancestor of HEAD: this shallow clone does not have it (fetch more history)`);
    }
    expect(known, `commit ${manifest.commit} is not in this repository: the screenshots were taken on a history since rewritten; rerun \`npm run docs:screenshots\``).toBe(true);
    let ancestor = true;
    try {
      git('merge-base', '--is-ancestor', manifest.commit, 'HEAD');
    } catch {
      ancestor = false;
    }
    expect(ancestor, `commit ${manifest.commit} is not an ancestor of HEAD: rerun \`npm run docs:screenshots\` on this branch`).toBe(true);
  });
});

describe('the screenshot manifest helpers', () => {
  const sample: ScreenshotManifest = {
    commit: 'abc1234',
    takenAt: '2026-12-08T00:10:00Z',
    command: 'npm run docs:screenshots',
    dashboardTime: '2026-03-10T09:14:30.000Z',
    images: [{ file: 'a.png', shows: 'A thing.', width: 10, height: 20 }],
  };

  it('puts the caption under the marker, replacing an earlier caption, and refuses a page without the marker', () => {
    const page = ['## Screenshots', CAPTION_MARKER, '*Taken by `npm run docs:screenshots` at commit `0000000` on 2026-01-01.*', '', '![x](img/a.png)'].join('\n');
    const next = withCaption(page, sample).split('\n');
    expect(next).toEqual(['## Screenshots', CAPTION_MARKER, captionLine(sample), '', '![x](img/a.png)']);
    expect(captionLine(sample)).toContain('at commit `abc1234` on 2026-12-08');
    // A marker with no caption yet gets one inserted, the next line kept.
    expect(withCaption([CAPTION_MARKER, 'text'].join('\n'), sample).split('\n')).toEqual([CAPTION_MARKER, captionLine(sample), 'text']);
    expect(() => withCaption('## Screenshots\n', sample)).toThrow(/no line/);
  });

  it('parses a manifest and says what a broken one lacks', () => {
    expect(parseManifest(JSON.stringify(sample))).toEqual(sample);
    expect(() => parseManifest(JSON.stringify({ ...sample, commit: '' }))).toThrow(/needs commit/);
    expect(() => parseManifest(JSON.stringify({ ...sample, images: [{ file: 'a.png', shows: 'x', width: 1.5, height: 2 }] }))).toThrow(/every image needs/);
  });

  it('reads a PNG size from its header and refuses what is not a PNG', () => {
    const header = Buffer.alloc(24);
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(header);
    header.writeUInt32BE(1440, 16);
    header.writeUInt32BE(4625, 20);
    expect(pngSize(header)).toEqual({ width: 1440, height: 4625 });
    expect(() => pngSize(Buffer.from('GIF89a-not-a-png-at-all!'))).toThrow(/not a PNG/);
  });
});
