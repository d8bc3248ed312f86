// Runs a renderer binary with an argument array (never a shell) and returns its stdout.
import { spawn } from 'node:child_process';
import { RenderError } from './errors';

/** `env` adds to the minimal environment (PATH, HOME): a tool's private config files, never secrets' values. */
export function runTool(binary: string, args: string[], cwd: string, what: string, timeoutMs = 120_000, env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new RenderError(`${what}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else
        reject(
          new RenderError(
            `${what} failed${signal ? ` (${signal})` : ''}: ${err
              .trim()
              .split('\n')
              .filter((l) => !/^# Warning/.test(l))
              .join('\n')
              .slice(-1500)}`,
          ),
        );
    });
  });
}

export type Renderer = 'kustomize' | 'helm' | 'gojq';
const RENDERER_ENV: Record<Renderer, string> = { kustomize: 'SLUICE_KUSTOMIZE', helm: 'SLUICE_HELM', gojq: 'SLUICE_GOJQ' };

/**
 * A renderer's binary: the path in SLUICE_<TOOL> (the local stack and the tests point
 * these at the pinned builds in the tool cache), else the name on PATH (an installed
 * Sluice's image carries them there).
 */
export const rendererBinary = (tool: Renderer): string => process.env[RENDERER_ENV[tool]] || tool;
