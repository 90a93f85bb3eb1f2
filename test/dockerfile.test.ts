/**
 * No Docker engine runs on our machines, so this test performs the Dockerfile's build itself, in a
 * clean temporary folder, and then starts the runtime stage's server from it.
 *
 * It parses the Dockerfile (the subset it uses: FROM … AS, WORKDIR, ENV, COPY [--from], RUN, USER,
 * EXPOSE, VOLUME, HEALTHCHECK, CMD; anything else is a clear error), gives every stage a fresh folder
 * standing in for its `/`, copies what the COPY lines name from the build context (respecting
 * .dockerignore) or from an earlier stage, and runs each RUN with `/bin/sh -c` in the stage's
 * WORKDIR with the environment the Dockerfile has set at that point. What cannot be the same
 * without Docker, and what the runner does instead:
 * - The image is not pulled: the host's Node (and npm) run every stage; the test checks its major
 *   version is the images'.
 * - A stage's absolute paths (its WORKDIRs and VOLUMEs) are rewritten under the stage's folder in
 *   RUN commands and ENV values; a RUN naming any other absolute path is refused, so nothing outside
 *   the temporary folder is touched.
 * - Besides the Dockerfile's ENV a RUN gets only PATH and HOME (for the local npm cache) and
 *   `npm_config_prefer_offline`, never the test process's NODE_ENV.
 * - `chown` is recorded by a stand-in on PATH; when the test runs as root the runner applies it with
 *   the images' uid for the user (`node` is 1000:1000 in the official Node images), and the server
 *   then runs as that uid, as `USER node` would have it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

const repoRoot = path.resolve(import.meta.dirname, '..');

// ---------------------------------------------------------------------------------------------
// Parsing

/** One instruction, with its 1-based line number (the first line of a continued instruction). */
export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

/** One `FROM` and what follows it. */
export interface Stage {
  name: string;
  image: string;
  instructions: Instruction[];
}

const SUPPORTED = ['FROM', 'WORKDIR', 'ENV', 'COPY', 'RUN', 'USER', 'EXPOSE', 'VOLUME', 'HEALTHCHECK', 'CMD'];

/** Splits a Dockerfile into stages; throws on instructions outside the subset above. */
export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i + 1;
    let logical = lines[i]!.trim();
    if (logical === '' || logical.startsWith('#')) continue;
    // A trailing backslash continues the instruction; comment lines inside it are dropped (as Docker does).
    while (logical.endsWith('\\')) {
      logical = logical.slice(0, -1);
      let next: string;
      do {
        i++;
        if (i >= lines.length) throw new Error(`Dockerfile line ${start}: the file ends inside a continued instruction`);
        next = lines[i]!.trim();
      } while (next === '' || next.startsWith('#'));
      logical += ` ${next}`;
    }
    const match = /^([A-Za-z]+)\s+(.*)$/.exec(logical);
    if (!match) throw new Error(`Dockerfile line ${start}: cannot read ${JSON.stringify(logical)}`);
    const keyword = match[1]!.toUpperCase();
    const args = match[2]!.trim();
    if (!SUPPORTED.includes(keyword)) {
      throw new Error(`Dockerfile line ${start}: ${keyword} is not supported by test/dockerfile.test.ts (it knows ${SUPPORTED.join(', ')}); extend the runner or keep to that subset`);
    }
    if (keyword === 'FROM') {
      const from = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!from || from[1]!.startsWith('--')) throw new Error(`Dockerfile line ${start}: FROM takes "image [AS name]" here: ${args}`);
      stages.push({ image: from[1]!, name: from[2] ?? String(stages.length), instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`Dockerfile line ${start}: ${keyword} before the first FROM`);
    stage.instructions.push({ keyword, args, line: start });
  }
  if (stages.length === 0) throw new Error('Dockerfile: no FROM');
  return stages;
}

/** Splits `a "b c" 'd'` into words; `$` (variable substitution) is not supported. */
export function shellWords(text: string, line: number): string[] {
  if (text.includes('$')) throw new Error(`Dockerfile line ${line}: variable substitution ($) is not supported by the test's runner: ${text}`);
  const words: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) words.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? m[3]!));
  return words;
}

/** `ENV A=1 B="two words"`, or the legacy `ENV A value`. */
export function parseEnv(args: string, line: number): Record<string, string> {
  const legacy = /^([A-Za-z_][A-Za-z0-9_]*)\s+([^=]*)$/.exec(args);
  if (legacy) return { [legacy[1]!]: legacy[2]!.trim() };
  const env: Record<string, string> = {};
  const re = /([A-Za-z_][A-Za-z0-9_]*)=(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S*))(?:\s+|$)/gy;
  let at = 0;
  for (let m = re.exec(args); m; m = re.exec(args)) {
    const value = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? m[4]!);
    if (value.includes('$')) throw new Error(`Dockerfile line ${line}: variable substitution ($) is not supported by the test's runner: ${args}`);
    env[m[1]!] = value;
    at = re.lastIndex;
  }
  if (at !== args.length) throw new Error(`Dockerfile line ${line}: cannot read ENV ${args}`);
  return env;
}

/** An exec-form (JSON array) argument list. */
function execForm(args: string, line: number): string[] {
  try {
    const parsed: unknown = JSON.parse(args);
    if (Array.isArray(parsed) && parsed.every((p) => typeof p === 'string')) return parsed as string[];
  } catch {
    // fall through
  }
  throw new Error(`Dockerfile line ${line}: expected the exec form ["cmd", "arg", ...]: ${args}`);
}

/** Which build-context paths .dockerignore leaves out (plain patterns with `*`, `?` and `**`; no `!`). */
export function dockerignoreMatcher(text: string): (relative: string) => boolean {
  const patterns = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((pattern) => {
      if (pattern.startsWith('!')) throw new Error(`.dockerignore: exceptions (${pattern}) are not supported by the test's runner`);
      const clean = path.posix.normalize(pattern.replace(/^\/+/, '')).replace(/\/+$/, '');
      let source = '';
      for (let i = 0; i < clean.length; i++) {
        const c = clean[i]!;
        if (c === '*' && clean[i + 1] === '*') {
          source += clean[i + 2] === '/' ? '(?:.*/)?' : '.*';
          i += clean[i + 2] === '/' ? 2 : 1;
        } else if (c === '*') source += '[^/]*';
        else if (c === '?') source += '[^/]';
        else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
      }
      return new RegExp(`^${source}$`);
    });
  return (relative) => {
    const parts = relative.split('/');
    // A path is left out when it, or a folder above it, matches.
    for (let n = 1; n <= parts.length; n++) {
      const prefix = parts.slice(0, n).join('/');
      if (patterns.some((p) => p.test(prefix))) return true;
    }
    return false;
  };
}

// ---------------------------------------------------------------------------------------------
// Running

/** The official Node images' users, by name: uid and gid. */
const IMAGE_USERS: Record<string, { uid: number; gid: number }> = { root: { uid: 0, gid: 0 }, node: { uid: 1000, gid: 1000 } };

/** What happened while a stage was built, for the checks below. */
export interface StageEvent {
  keyword: string;
  line: number;
  /** VOLUME: the path; chown (recorded from RUN): owner and path. */
  path?: string;
  owner?: string;
}

/** The state of one stage after its instructions ran. */
export interface BuiltStage {
  name: string;
  image: string;
  /** The folder standing in for the stage's `/`. */
  root: string;
  workdir: string;
  env: Record<string, string>;
  user: string;
  volumes: string[];
  exposed: string[];
  healthcheck?: { options: Record<string, string>; command: string[] };
  cmd?: string[];
  events: StageEvent[];
  /** Environment of each RUN, in order (the Dockerfile's part only). */
  runEnvs: Array<{ line: number; command: string; env: Record<string, string> }>;
}

/** Builds every stage of `dockerfile` under `workRoot`, the build context being `context`. */
export function buildDockerfile(dockerfile: string, context: string, workRoot: string, log: (line: string) => void = () => {}): BuiltStage[] {
  const stages = parseDockerfile(readFileSync(dockerfile, 'utf8'));
  const ignorePath = path.join(context, '.dockerignore');
  const ignored = dockerignoreMatcher(existsSync(ignorePath) ? readFileSync(ignorePath, 'utf8') : '');
  // Every absolute path the Dockerfile's stages own: rewritten under the stage's folder.
  const ownPaths = new Set<string>();
  for (const stage of stages) {
    for (const ins of stage.instructions) {
      if (ins.keyword === 'WORKDIR') ownPaths.add(path.posix.resolve('/', ins.args));
      if (ins.keyword === 'VOLUME') for (const v of volumeList(ins)) ownPaths.add(v);
    }
  }
  const mapped = [...ownPaths].sort((a, b) => b.length - a.length);
  const shimDir = path.join(workRoot, 'shim');
  const chownLog = path.join(workRoot, 'chown.log');
  mkdirSync(shimDir, { recursive: true });
  writeFileSync(chownLog, '');
  chmodSync(chownLog, 0o666); // a RUN after USER writes it too
  writeFileSync(path.join(shimDir, 'chown'), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${chownLog}'\n`, { mode: 0o755 });
  const asRoot = process.getuid?.() === 0;

  const built: BuiltStage[] = [];
  stages.forEach((stage, index) => {
    if (built.some((b) => b.name === stage.image)) throw new Error(`Dockerfile: FROM an earlier stage (${stage.image}) is not supported by the test's runner`);
    const root = path.join(workRoot, `${index}-${stage.name}`);
    mkdirSync(root, { recursive: true });
    const state: BuiltStage = { name: stage.name, image: stage.image, root, workdir: '/', env: {}, user: 'root', volumes: [], exposed: [], events: [], runEnvs: [] };
    const inRoot = (p: string): string => path.join(root, path.posix.resolve(state.workdir, p));
    const rewrite = (text: string): string => {
      let out = text;
      for (const p of mapped) {
        const escaped = p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        out = out.replace(new RegExp(`(^|[\\s=:'"])${escaped}(?=$|[\\s/'":;&|)])`, 'g'), (_, before: string) => `${before}${root}${p}`);
      }
      return out;
    };
    for (const ins of stage.instructions) {
      switch (ins.keyword) {
        case 'WORKDIR':
          state.workdir = path.posix.resolve(state.workdir, ins.args);
          mkdirSync(inRoot('.'), { recursive: true });
          break;
        case 'ENV':
          Object.assign(state.env, parseEnv(ins.args, ins.line));
          break;
        case 'USER':
          if (!IMAGE_USERS[ins.args]) throw new Error(`Dockerfile line ${ins.line}: USER ${ins.args} is not a user of the Node images the runner knows (${Object.keys(IMAGE_USERS).join(', ')})`);
          state.user = ins.args;
          break;
        case 'EXPOSE':
          state.exposed.push(...ins.args.split(/\s+/));
          break;
        case 'VOLUME':
          for (const v of volumeList(ins)) {
            state.volumes.push(v);
            state.events.push({ keyword: 'VOLUME', line: ins.line, path: v });
          }
          break;
        case 'CMD':
          state.cmd = execForm(ins.args, ins.line);
          break;
        case 'HEALTHCHECK': {
          const words = ins.args.split(/\s+/);
          const options: Record<string, string> = {};
          while (words[0]?.startsWith('--')) {
            const [key, value] = words.shift()!.slice(2).split('=');
            options[key!] = value ?? '';
          }
          if (words.shift()?.toUpperCase() !== 'CMD') throw new Error(`Dockerfile line ${ins.line}: HEALTHCHECK takes [options] CMD [...] here`);
          state.healthcheck = { options, command: execForm(words.join(' '), ins.line) };
          break;
        }
        case 'COPY': {
          const words = shellWords(ins.args, ins.line);
          let from: BuiltStage | undefined;
          while (words[0]?.startsWith('--')) {
            const flag = words.shift()!;
            const fromName = /^--from=(.+)$/.exec(flag)?.[1];
            if (fromName === undefined) throw new Error(`Dockerfile line ${ins.line}: COPY ${flag} is not supported by the test's runner (only --from=<stage>)`);
            from = built.find((b) => b.name === fromName);
            if (!from) throw new Error(`Dockerfile line ${ins.line}: COPY --from=${fromName}: no earlier stage of that name`);
          }
          if (words.length < 2) throw new Error(`Dockerfile line ${ins.line}: COPY needs a source and a destination`);
          const dest = words.pop()!;
          const intoDir = dest.endsWith('/') || words.length > 1;
          for (const source of words) {
            if (/[*?[]/.test(source)) throw new Error(`Dockerfile line ${ins.line}: COPY with wildcards (${source}) is not supported by the test's runner`);
            const relative = path.posix.normalize(source).replace(/^\/+/, '').replace(/\/+$/, '');
            const src = from ? path.join(from.root, path.posix.resolve(from.workdir, source)) : path.join(context, relative);
            if (!existsSync(src) || (!from && ignored(relative))) {
              throw new Error(`Dockerfile line ${ins.line}: COPY ${source}: not found ${from ? `in stage ${from.name}` : 'in the build context (or left out by .dockerignore)'}`);
            }
            const isDir = statSync(src).isDirectory();
            const target = isDir || !intoDir ? inRoot(dest) : path.join(inRoot(dest), path.basename(src));
            mkdirSync(isDir ? target : path.dirname(target), { recursive: true });
            cpSync(src, target, {
              recursive: true,
              // The context is filtered by .dockerignore; another stage's folder is copied as it is.
              filter: (file) => from !== undefined || !ignored(path.relative(context, file).split(path.sep).join('/')),
            });
          }
          break;
        }
        case 'RUN': {
          const command = ins.args.startsWith('[') ? execForm(ins.args, ins.line) : ['/bin/sh', '-c', rewrite(ins.args)];
          const outside = command.slice(command[0] === '/bin/sh' ? 2 : 0).join(' ').match(/(?:^|[\s=:'"])(\/[^\s'";&|)]*)/g)?.map((m) => m.trim().replace(/^[=:'"]/, '')).filter((p) => !p.startsWith(root));
          if (outside?.length) throw new Error(`Dockerfile line ${ins.line}: RUN names ${outside.join(', ')}, outside the paths the runner can map into the stage (its WORKDIRs and VOLUMEs)`);
          const dockerfileEnv = Object.fromEntries(Object.entries(state.env).map(([k, v]) => [k, rewrite(v)]));
          state.runEnvs.push({ line: ins.line, command: ins.args, env: { ...state.env } });
          const env = { PATH: `${shimDir}:${process.env.PATH}`, HOME: process.env.HOME ?? tmpdir(), npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false', ...dockerfileEnv };
          const user = IMAGE_USERS[state.user]!;
          log(`[${stage.name}] RUN ${ins.args}`);
          writeFileSync(chownLog, '');
          const started = Date.now();
          const result = spawnSync(command[0]!, command.slice(1), {
            cwd: inRoot('.'),
            env,
            encoding: 'utf8',
            maxBuffer: 64 << 20,
            ...(asRoot && state.user !== 'root' ? { uid: user.uid, gid: user.gid } : {}),
          });
          log(`[${stage.name}]   ${((Date.now() - started) / 1000).toFixed(1)} s, exit ${result.status}`);
          if (result.status !== 0) throw new Error(`Dockerfile line ${ins.line}: RUN ${ins.args} failed (exit ${result.status ?? result.signal}):\n${(result.stdout + result.stderr).slice(-4000)}`);
          for (const recorded of readFileSync(chownLog, 'utf8').split('\n').filter(Boolean)) {
            const args = recorded.split(/\s+/);
            const recursive = args.includes('-R');
            const [owner, ...targets] = args.filter((a) => !a.startsWith('-'));
            const [userName, groupName] = owner!.split(':');
            const uid = IMAGE_USERS[userName!]?.uid;
            const gid = groupName === undefined ? undefined : IMAGE_USERS[groupName]?.gid;
            if (uid === undefined || (groupName !== undefined && gid === undefined)) throw new Error(`Dockerfile line ${ins.line}: chown ${owner}: not a user of the Node images the runner knows`);
            for (const target of targets) {
              const abs = path.resolve(inRoot('.'), target);
              state.events.push({ keyword: 'chown', line: ins.line, owner: owner!, path: `/${path.relative(root, abs).split(path.sep).join('/')}` });
              if (asRoot) chownTree(abs, uid, gid ?? uid, recursive);
            }
          }
          break;
        }
        default:
          throw new Error(`Dockerfile line ${ins.line}: ${ins.keyword} is not supported`);
      }
    }
    built.push(state);
  });
  return built;
}

function volumeList(ins: Instruction): string[] {
  return (ins.args.startsWith('[') ? execForm(ins.args, ins.line) : ins.args.split(/\s+/)).map((v) => path.posix.resolve('/', v));
}

function chownTree(target: string, uid: number, gid: number, recursive: boolean): void {
  chownSync(target, uid, gid);
  if (recursive && statSync(target).isDirectory()) {
    for (const entry of spawnSync('find', [target, '-mindepth', '1'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean)) chownSync(entry, uid, gid);
  }
}

// ---------------------------------------------------------------------------------------------
// The parser and the .dockerignore matcher on their own

describe('the Dockerfile runner', () => {
  it('reads stages, continued lines and ENV forms, and refuses what it does not know', () => {
    const stages = parseDockerfile('# c\nFROM node:20 AS a\nENV A=1 B="two words"\nRUN echo \\\n  # inside\n  one\nFROM node:20\nUSER node\n');
    expect(stages.map((s) => s.name)).toEqual(['a', '1']);
    expect(stages[0]!.instructions).toEqual([
      { keyword: 'ENV', args: 'A=1 B="two words"', line: 3 },
      { keyword: 'RUN', args: 'echo  one', line: 4 },
    ]);
    expect(parseEnv('A=1 B="two words"', 1)).toEqual({ A: '1', B: 'two words' });
    expect(parseEnv('NODE_ENV production', 1)).toEqual({ NODE_ENV: 'production' });
    expect(() => parseDockerfile('FROM node:20\nADD x /x\n')).toThrow(/line 2: ADD is not supported/);
    expect(() => parseDockerfile('RUN true\n')).toThrow(/before the first FROM/);
    expect(() => parseEnv('A=$B', 7)).toThrow(/line 7: variable substitution/);
  });

  it('refuses a RUN that names an absolute path outside the stage, before running it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'changewatch-dockerfile-runner-'));
    try {
      writeFileSync(path.join(dir, 'Dockerfile'), 'FROM node:20\nWORKDIR /app\nVOLUME /data\nRUN touch /data/ok /app/ok && touch /etc/changewatch-must-not-exist\n');
      expect(() => buildDockerfile(path.join(dir, 'Dockerfile'), dir, path.join(dir, 'work'))).toThrow(/line 4: RUN names \/etc\/changewatch-must-not-exist, outside/);
      expect(existsSync('/etc/changewatch-must-not-exist')).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves out what .dockerignore names, folders with everything in them', () => {
    const ignored = dockerignoreMatcher('# comment\nnode_modules\n/web/dist/\n*.log\n**/tmp\n');
    expect(ignored('node_modules')).toBe(true);
    expect(ignored('node_modules/tsx/package.json')).toBe(true);
    expect(ignored('web/dist/index.html')).toBe(true);
    expect(ignored('web/src/main.ts')).toBe(false);
    expect(ignored('npm-debug.log')).toBe(true);
    expect(ignored('server/x.log')).toBe(false);
    expect(ignored('a/b/tmp/c')).toBe(true);
    expect(() => dockerignoreMatcher('!keep')).toThrow(/exceptions/);
  });
});

// ---------------------------------------------------------------------------------------------
// The build, and the runtime stage started

/** Set CHANGEWATCH_SKIP_DOCKERFILE_BUILD=1 to leave the build out (it runs npm ci twice and vite build: ~1–2 min). */
const skipBuild = process.env.CHANGEWATCH_SKIP_DOCKERFILE_BUILD === '1';

describe.skipIf(skipBuild)('the Dockerfile, built without Docker', () => {
  let workRoot: string;
  let stages: BuiltStage[];
  let runtime: BuiltStage;
  let app: string;
  const timings: string[] = [];

  beforeAll(() => {
    workRoot = mkdtempSync(path.join(tmpdir(), 'changewatch-dockerfile-'));
    // mkdtemp makes a private folder; the runtime stage's server may run as another uid.
    chmodSync(workRoot, 0o755);
    const started = Date.now();
    stages = buildDockerfile(path.join(repoRoot, 'Dockerfile'), repoRoot, workRoot, (line) => timings.push(line));
    timings.push(`build: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    runtime = stages.at(-1)!;
    app = path.join(runtime.root, runtime.workdir);
  }, 300_000);

  afterAll(() => {
    if (timings.length) process.stderr.write(`dockerfile.test.ts:\n  ${timings.join('\n  ')}\n`);
    if (workRoot && process.env.CHANGEWATCH_KEEP_DOCKERFILE_BUILD !== '1') rmSync(workRoot, { recursive: true, force: true });
  });

  it("runs every stage on the host's Node major version, the images' own", () => {
    const major = process.versions.node.split('.')[0];
    for (const stage of stages) expect(stage.image, `stage ${stage.name}`).toMatch(new RegExp(`^node:${major}(?:[.-]|$)`));
  });

  it('installs dev dependencies where the dashboard is built, and sets NODE_ENV=production in the runtime stage only', () => {
    const build = stages.find((s) => existsSync(path.join(s.root, s.workdir, 'web/dist/index.html')) && s !== runtime)!;
    expect(build, 'a stage that builds web/dist').toBeDefined();
    for (const run of build.runEnvs) expect(run.env.NODE_ENV, `RUN ${run.command}`).toBeUndefined();
    expect(existsSync(path.join(build.root, build.workdir, 'node_modules/vite/package.json'))).toBe(true);
    for (const stage of stages) if (stage !== runtime) expect(stage.env.NODE_ENV, `stage ${stage.name}`).toBeUndefined();
    expect(runtime.env.NODE_ENV).toBe('production');
  });

  it('puts the built dashboard and production dependencies only in the runtime stage', () => {
    expect(readFileSync(path.join(app, 'web/dist/index.html'), 'utf8')).toMatch(/<script[^>]+src="\/assets\//);
    for (const dep of ['tsx', 'kafkajs', 'pg', '@electric-sql/pglite', 'express', 'socket.io']) expect(existsSync(path.join(app, 'node_modules', dep, 'package.json')), dep).toBe(true);
    for (const dev of ['vite', 'vitest', 'svelte', '@sveltejs/vite-plugin-svelte', 'typescript']) expect(existsSync(path.join(app, 'node_modules', dev)), dev).toBe(false);
    expect(existsSync(path.join(app, 'test')), 'tests stay out of the image').toBe(false);
    expect(existsSync(path.join(app, 'node_modules/.package-lock.json'))).toBe(true);
  });

  it('runs as node, owning its data volume from before the VOLUME line', () => {
    expect(runtime.user).toBe('node');
    expect(runtime.volumes).toEqual([runtime.env.CHANGEWATCH_DATA_DIR]);
    const volume = runtime.events.findIndex((e) => e.keyword === 'VOLUME' && e.path === runtime.env.CHANGEWATCH_DATA_DIR);
    const chown = runtime.events.findIndex((e) => e.keyword === 'chown' && e.path === runtime.env.CHANGEWATCH_DATA_DIR && e.owner?.split(':')[0] === 'node');
    expect(chown, 'chown node of the data dir').toBeGreaterThanOrEqual(0);
    expect(chown).toBeLessThan(volume);
    if (process.getuid?.() === 0) expect(statSync(path.join(runtime.root, runtime.env.CHANGEWATCH_DATA_DIR!)).uid).toBe(IMAGE_USERS.node!.uid);
    expect(runtime.exposed).toEqual(['8080']);
    expect(runtime.healthcheck!.command.join(' ')).toContain('/readyz');
    expect(Number.parseInt(runtime.healthcheck!.options['start-period'] ?? '0', 10)).toBeGreaterThan(0);
  });

  it('resolves the CLI and the simulator from the runtime stage', () => {
    const env = runtimeEnv(runtime);
    const cli = spawnSync('node', ['bin/changewatch.js', '--help'], { cwd: app, env, encoding: 'utf8', ...asImageUser(runtime) });
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.stderr).toContain('usage: changewatch replay');
    const sim = spawnSync('node', ['--import', 'tsx', '-e', "await import('./tooling/dev/live-simulator.ts'); await import('./tooling/dev/simulator-args.ts')"], { cwd: app, env, encoding: 'utf8', ...asImageUser(runtime) });
    expect(sim.status, sim.stderr).toBe(0);
  }, 60_000);

  it("starts the image's CMD: it serves the dashboard, the HEALTHCHECK turns healthy, the store is in the volume", async () => {
    const port = await freePort();
    const env = { ...runtimeEnv(runtime), PORT: String(port), KAFKA_BROKERS: inject('kafkaBrokers'), KAFKA_GROUP_ID: `dockerfile-test-${port}` };
    const started = Date.now();
    const server = spawn(runtime.cmd![0]!, runtime.cmd!.slice(1), { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'], ...asImageUser(runtime) });
    let output = '';
    server.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    server.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    try {
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.ok === true, 60_000, () => `no /healthz: ${output.slice(-3000)}`, server);
      const page = await fetch(`http://127.0.0.1:${port}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toBe(readFileSync(path.join(app, 'web/dist/index.html'), 'utf8'));
      const [command, ...args] = runtime.healthcheck!.command;
      await waitFor(() => spawnSync(command!, args, { env, timeout: 5_000, ...asImageUser(runtime) }).status === 0, 60_000, () => `HEALTHCHECK never passed: ${output.slice(-3000)}`, server);
      timings.push(`runtime CMD healthy after ${((Date.now() - started) / 1000).toFixed(1)} s`);
      const dataDir = path.join(runtime.root, runtime.env.CHANGEWATCH_DATA_DIR!);
      expect(existsSync(path.join(dataDir, 'db/changewatch.lock'))).toBe(true);
      if (process.getuid?.() === 0) expect(statSync(path.join(dataDir, 'db')).uid).toBe(IMAGE_USERS.node!.uid);
    } finally {
      await stop(server);
    }
    expect(server.exitCode, output.slice(-3000)).toBe(0);
  }, 150_000);
});

/** The runtime stage's environment as a container gets it (paths under the stage's folder), and the host's PATH. */
function runtimeEnv(stage: BuiltStage): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: stage.root };
  for (const [key, value] of Object.entries(stage.env)) env[key] = stage.volumes.includes(value) || value === stage.workdir ? path.join(stage.root, value) : value;
  return env;
}

/** Spawn options that run as the stage's USER when the test can (as root). */
function asImageUser(stage: BuiltStage): { uid?: number; gid?: number } {
  const user = IMAGE_USERS[stage.user]!;
  return process.getuid?.() === 0 && stage.user !== 'root' ? { uid: user.uid, gid: user.gid } : {};
}

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, explain: () => string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}: ${explain()}`);
    if (Date.now() > deadline) throw new Error(explain());
    await new Promise((r) => setTimeout(r, 500));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
