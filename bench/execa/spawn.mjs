#!/usr/bin/env node
// One-shot commands the way a health check runs them, with execa or with node:child_process:
// N sequential runs of `/bin/true` (each awaited, with a timeout), as one whole process, so the
// import cost is part of it. Compare the two pair by pair:
//   farm-bench --vs 'node bench/execa/spawn.mjs child_process 200' -- node bench/execa/spawn.mjs execa 200
// (and with N = 0 for the import cost alone). Needs execa installed: npm install --no-save execa
import { spawn } from 'node:child_process';

const [kind = 'child_process', count = '200'] = process.argv.slice(2);
const n = Number(count);

async function viaChildProcess() {
  for (let i = 0; i < n; i++) {
    await new Promise((resolve, reject) => {
      const child = spawn('/bin/true', [], { stdio: ['ignore', 'ignore', 'pipe'], detached: true, timeout: 5_000 });
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}`))));
    });
  }
}

async function viaExeca() {
  const { execa } = await import('execa');
  for (let i = 0; i < n; i++) await execa('/bin/true', [], { timeout: 5_000, detached: true, stdout: 'ignore' });
}

await (kind === 'execa' ? viaExeca() : viaChildProcess());
