/**
 * The record of the dashboard screenshots in docs/img: which commit and date they were taken at, by
 * which command, and what each image shows. `npm run docs:screenshots` writes it (manifest.json for
 * tools, README.md for readers, both from the same data) and the caption line of docs/dashboard.md's
 * Screenshots section; test/tooling/docs-screenshots.test.ts reads it to fail on missing or
 * unrecorded images.
 */
import { execFileSync } from 'node:child_process';

/** The command that takes the screenshots. */
export const SCREENSHOTS_COMMAND = 'npm run docs:screenshots';

/** Where the images and the manifest live, relative to the repository. */
export const IMAGES_DIR = 'docs/img';

/** The manifest file, relative to the repository. */
export const MANIFEST_PATH = `${IMAGES_DIR}/manifest.json`;

/** The page that embeds the images, relative to the repository. */
export const DOCS_PAGE = 'docs/dashboard.md';

/** Marks the line of docs/dashboard.md the script rewrites with the commit and date (the line after it). */
export const CAPTION_MARKER = '<!-- screenshots-caption: written by npm run docs:screenshots -->';

/** One screenshot. */
export interface ScreenshotRecord {
  /** File name inside docs/img. */
  file: string;
  /** What it shows, in a sentence. */
  shows: string;
  /** Size of the PNG in pixels. */
  width: number;
  height: number;
}

/** What one run of the screenshot command took. */
export interface ScreenshotManifest {
  /** `git rev-parse --short HEAD` of the tree the pictures were taken from, with `+dirty` when it had uncommitted changes. */
  commit: string;
  /** When they were taken (the machine's real clock, not the dashboard's simulated one), ISO 8601 UTC. */
  takenAt: string;
  command: string;
  /** The instant the dashboard shows as "now" in the pictures, ISO 8601 UTC. */
  dashboardTime: string;
  images: ScreenshotRecord[];
}

/** The commit the working tree at `repo` is on, `+dirty` when it has changes that could show in the pictures. */
export function describeCommit(repo: string): string {
  const git = (...args: string[]): string => execFileSync('git', args, { cwd: repo, encoding: 'utf8' }).trim();
  const commit = git('rev-parse', '--short', 'HEAD');
  // Untracked files count (a new component changes the pictures). docs/ does not (it holds the images
  // about to be replaced and the caption a previous run rewrote), nor does a worktree's node_modules symlink.
  const changes = git('status', '--porcelain', '--untracked-files=all', '--', '.', ':(exclude)docs', ':(exclude)node_modules');
  return changes === '' ? commit : `${commit}+dirty`;
}

/** The caption line under the marker in docs/dashboard.md. */
export function captionLine(manifest: ScreenshotManifest): string {
  return `*Taken by \`${manifest.command}\` at commit \`${manifest.commit}\` on ${manifest.takenAt.slice(0, 10)}; what each image shows: [img/README.md](img/README.md).*`;
}

/** Replaces the line after {@link CAPTION_MARKER} in `page` with the caption of `manifest`; throws when the marker is missing. */
export function withCaption(page: string, manifest: ScreenshotManifest): string {
  const lines = page.split('\n');
  const at = lines.indexOf(CAPTION_MARKER);
  if (at < 0) throw new Error(`${DOCS_PAGE} has no line "${CAPTION_MARKER}" to put the screenshots' caption under`);
  lines.splice(at + 1, lines[at + 1]?.startsWith('*Taken by') ? 1 : 0, captionLine(manifest));
  return lines.join('\n');
}

/** docs/img/README.md: the manifest for readers. */
export function renderReadme(manifest: ScreenshotManifest): string {
  const rows = manifest.images.map((image) => `| [${image.file}](${image.file}) | ${image.width}×${image.height} | ${image.shows} |`);
  return [
    '# Dashboard screenshots',
    '',
    `Taken by \`${manifest.command}\` (tooling/docs-screenshots.ts) at commit \`${manifest.commit}\` on ${manifest.takenAt.replace('T', ' ').slice(0, 16)} UTC.`,
    `The dashboard in them is the real server fed a simulated fleet (fixed seed), with its clock at ${manifest.dashboardTime.replace('T', ' ').slice(0, 16)} UTC.`,
    'Do not edit these files by hand: rerun the command, which rewrites every image, this page and `manifest.json`.',
    '`test/tooling/docs-screenshots.test.ts` fails when docs/dashboard.md embeds an image that is missing or not listed here,',
    "or when the commit above is not in the repository's history.",
    '',
    '| Image | Pixels | What it shows |',
    '| --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

/** Parses manifest.json text; throws, saying what is wrong, when it is not a manifest. */
export function parseManifest(text: string): ScreenshotManifest {
  const value = JSON.parse(text) as Partial<ScreenshotManifest>;
  const isString = (x: unknown): x is string => typeof x === 'string' && x.length > 0;
  if (!isString(value.commit) || !isString(value.takenAt) || !isString(value.command) || !isString(value.dashboardTime) || !Array.isArray(value.images)) {
    throw new Error(`${MANIFEST_PATH} needs commit, takenAt, command, dashboardTime and images`);
  }
  for (const image of value.images) {
    if (!isString(image?.file) || !isString(image.shows) || !Number.isInteger(image.width) || !Number.isInteger(image.height)) {
      throw new Error(`${MANIFEST_PATH}: every image needs file, shows, width and height (got ${JSON.stringify(image)})`);
    }
  }
  return value as ScreenshotManifest;
}

/** The size of a PNG from its IHDR chunk; throws when `bytes` is not a PNG. */
export function pngSize(bytes: Uint8Array): { width: number; height: number } {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length < 24 || signature.some((byte, i) => bytes[i] !== byte)) throw new Error('not a PNG file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}
