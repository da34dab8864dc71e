#!/usr/bin/env node
// Synthetic attribute-to-sentence records for the demo model's public pre-training, built from
// public words only: nouns and adjectives of GCIDE (Debian package dict-gcide, GPL-3+) that occur at
// least MIN_COUNT times in the public corpus, and character names of tiny Shakespeare (its speaker
// lines). Each record is `key[value], ... || a sentence that states every value`, so that a small
// model learns to copy bracketed values into prose, which 600 steps of plain text never taught it.
// The keys are generic (name, kind, quality, colour, size, place, near, owner, age, rating,
// material); no E2E text, key or value list is used.
//
//   node apps/finetune/scripts/make-copy-records.mjs CORPUS.txt GCIDE.dict.dz N_RECORDS SEED > records.txt
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

const [corpusPath, gcidePath, nArg = '40000', seedArg = '1'] = process.argv.slice(2);
if (!corpusPath || !gcidePath) {
  console.error('usage: make-copy-records.mjs CORPUS.txt GCIDE.dict.dz [N_RECORDS] [SEED]');
  process.exit(2);
}
const N = Number(nArg);
const MIN_COUNT = 8;

// mulberry32: a seeded generator, so the records (and the model) can be remade exactly
let state = Number(seedArg) >>> 0;
function random() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (xs) => xs[Math.floor(random() * xs.length)];
const chance = (p) => random() < p;
function shuffle(xs) {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

const corpus = readFileSync(corpusPath, 'utf8');
const counts = new Map();
for (const w of corpus.toLowerCase().match(/[a-z]+/g) ?? []) counts.set(w, (counts.get(w) ?? 0) + 1);

// GCIDE headword lines: "Word \pro*nun"ci*a`tion\, n. ..." or ", a. ..."
const dict = gunzipSync(readFileSync(gcidePath)).toString('latin1');
const nouns = new Set();
const adjectives = new Set();
for (const m of dict.matchAll(/^([A-Z][a-z]+) \\[^\\]*\\, (n|a)\. /gm)) {
  const w = m[1].toLowerCase();
  if (w.length < 3 || (counts.get(w) ?? 0) < MIN_COUNT) continue;
  (m[2] === 'n' ? nouns : adjectives).add(w);
}
// Shakespeare's speakers ("KING RICHARD III:" -> "King Richard"), and "The <Noun>" names
const speakers = new Set();
for (const m of corpus.matchAll(/^([A-Z][A-Z]+(?: [A-Z][A-Z]+)?):$/gm)) {
  speakers.add(m[1].split(' ').map((w) => w[0] + w.slice(1).toLowerCase()).join(' '));
}
const N_ = [...nouns];
const A_ = [...adjectives];
const S_ = [...speakers];
if (N_.length < 100 || A_.length < 50 || S_.length < 20) {
  console.error(`too few words: ${N_.length} nouns, ${A_.length} adjectives, ${S_.length} names`);
  process.exit(1);
}
const cap = (w) => w[0].toUpperCase() + w.slice(1);
function name() {
  const r = random();
  if (r < 0.4) return pick(S_);
  if (r < 0.7) return `The ${cap(pick(N_))}`;
  if (r < 0.85) return `${cap(pick(A_))} ${cap(pick(N_))}`;
  return cap(pick(N_));
}
const COLOURS = ['red', 'blue', 'green', 'white', 'black', 'yellow', 'brown', 'grey', 'golden', 'silver', 'purple', 'pink'];
const SIZES = ['small', 'large', 'little', 'great', 'tiny', 'huge', 'tall', 'short', 'wide', 'narrow'];
const article = (w) => (/^[aeiou]/.test(w) ? 'an' : 'a');

function record() {
  const v = { name: name(), kind: pick(N_) };
  for (const [key, p, make] of [
    ['quality', 0.5, () => pick(A_)],
    ['colour', 0.35, () => pick(COLOURS)],
    ['size', 0.35, () => pick(SIZES)],
    ['place', 0.5, () => pick(N_)],
    ['near', 0.35, name],
    ['owner', 0.25, name],
    ['material', 0.2, () => pick(N_)],
    ['age', 0.2, () => String(2 + Math.floor(random() * 88))],
    ['rating', 0.25, () => String(1 + Math.floor(random() * 10))],
  ]) if (chance(p)) v[key] = make();

  const mr = shuffle(Object.keys(v)).map((k) => `${k}[${k === 'place' ? `the ${v[k]}` : k === 'rating' ? `${v[k]} out of 10` : v[k]}]`);
  const describedKind = [v.size, v.colour, v.quality, v.kind].filter(Boolean).join(' ');
  const where = [v.place && `in the ${v.place}`, v.near && `near ${v.near}`].filter(Boolean).join(', ');
  const first = pick([
    () => `${v.name} is ${article(describedKind)} ${describedKind}${where ? ` ${where}` : ''}.`,
    () => (where ? `${cap(where)} there is ${article(describedKind)} ${describedKind} called ${v.name}.` : `There is ${article(describedKind)} ${describedKind} called ${v.name}.`),
    () => `${article(describedKind) === 'an' ? 'An' : 'A'} ${describedKind} named ${v.name}${where ? ` stands ${where}` : ' is here'}.`,
  ])();
  const more = shuffle([
    v.owner && pick([`It is owned by ${v.owner}.`, `${v.owner} owns it.`]),
    v.material && pick([`It is made of ${v.material}.`, `Its ${v.material} is old.`]),
    v.age && pick([`It is ${v.age} years old.`, `It was made ${v.age} years ago.`]),
    v.rating && pick([`It has a rating of ${v.rating} out of 10.`, `People rate it ${v.rating} out of 10.`]),
  ].filter(Boolean));
  return `${mr.join(', ')} || ${[first, ...more].join(' ')}`;
}

const lines = [];
for (let i = 0; i < N; i++) lines.push(record());
process.stdout.write(lines.join('\n') + '\n');
console.error(`${N} records from ${N_.length} nouns, ${A_.length} adjectives, ${S_.length} names`);
