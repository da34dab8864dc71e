// Summarises V8 .cpuprofile files (node --cpu-prof; one per process, summed): self time by function
// and by where the code lives (TF.js core, the webgpu backend, our packages, native calls, GC, idle).
//   node tooling/scripts/cpuprofile-top.mjs PROFILE.cpuprofile [MORE.cpuprofile ...] [top=30]
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const files = args.filter((a) => a.endsWith('.cpuprofile'));
if (files.length === 0) throw new Error('usage: cpuprofile-top.mjs PROFILE.cpuprofile [MORE.cpuprofile ...] [top]');
const top = Number(args.find((a) => /^\d+$/.test(a)) ?? 30);
// self µs per call frame; samples[i] was taken timeDeltas[i] µs after the previous one
const selfUs = new Map();
const frames = new Map();
for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  profile.samples.forEach((id, i) => {
    const c = byId.get(id);
    const key = `${c.functionName}\u0000${c.url}\u0000${c.lineNumber}`;
    frames.set(key, c);
    selfUs.set(key, (selfUs.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
}
const place = (url) => {
  if (!url) return 'native / V8';
  if (url.includes('tfjs-backend-webgpu')) return 'tfjs-backend-webgpu';
  if (url.includes('tfjs-core')) return 'tfjs-core';
  if (url.includes('tfjs-backend-cpu')) return 'tfjs-backend-cpu';
  const m = url.match(/(packages|apps)\/([^/]+)\//);
  if (m) return `@clipwise/${m[2]}`;
  if (url.includes('node_modules')) return url.split('node_modules/').pop().split('/')[0];
  return url.startsWith('node:') ? 'node' : 'other';
};
const fn = new Map();
const where = new Map();
let total = 0;
for (const [k, us] of selfUs) {
  const c = frames.get(k);
  const name = c.functionName || '(anonymous)';
  const key = name.startsWith('(') ? name : `${name} ${place(c.url)}:${c.lineNumber + 1}`;
  fn.set(key, (fn.get(key) ?? 0) + us);
  const p = name.startsWith('(') ? name : place(c.url);
  where.set(p, (where.get(p) ?? 0) + us);
  total += us;
}
const table = (title, m, n) => {
  console.log(`\n${title}\n| | ms | share |\n| --- | ---: | ---: |`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`| ${k} | ${(us / 1000).toFixed(1)} | ${((100 * us) / total).toFixed(1)}% |`);
};
console.log(`${files.join(', ')}: ${(total / 1000).toFixed(0)} ms sampled`);
table('self time by place', where, 20);
table(`self time by function (top ${top})`, fn, top);
