import type { GhostKernelShape } from './ghost-sq-norm-wgsl';

// The WGSL pieces of the ghost-norm kernels (ghost-sq-norm-wgsl.ts, one launch a layer;
// ghost-sq-norm-split-wgsl.ts, K split over workgroups): staging a K step of two row tiles of one
// operand, the tiles' Gram products in registers, the K groups' reduction, the bias's column chunks.

/** Columns of g a bias workgroup sums (its threads share them out). */
export const BIAS_CHUNK = 256;

/**
 * vec4s of one staged row (bk/4 of k, and one of padding): a staged tile is [row][k/4], and a quarter
 * warp's reads of 8 rows (an odd stride of vec4s) fall in distinct banks.
 */
export const rowOf = (s: GhostKernelShape) => s.bk / 4 + 1;
/** vec4s of one staged tile (`tile` rows). */
export const tileVec4 = (s: GhostKernelShape, tile: number) => tile * rowOf(s);
/** vec4s each thread of a group stages a K step (both tiles: 2·tile·bk/4 over 64 threads). */
export const loadsOf = (s: GhostKernelShape, tile: number) => (2 * tile * s.bk) / 4 / 64;
/** Whether a group's 64 threads stage whole loads of one tile at a time (tile · bk / 4 a multiple of 64), as `loadFunction` assumes. */
export const wholeLoads = (s: GhostKernelShape, tile: number) => ((tile * s.bk) / 4) % 64 === 0;
/** vec4s of the kernels' workgroup array `sm`: the K groups' staging, reused for their reduction (`reduceGroups`). */
export const smVec4s = (s: GhostKernelShape, tile: number) => Math.max(s.kg * 2 * tileVec4(s, tile), (s.kg / 2) * 64 * reduceVec4(tile / 8));

/**
 * `load${x}(…)`: this thread's `loadsOf(s, rows)` vec4s of rows [rowI, rowI + rows) and [rowJ, rowJ + rows) × k
 * [kg, kg + bk) of X ([T, K] at `base`) as a `Staged`, zero past T and K (consecutive threads read
 * consecutive vec4s of a row). `vec`: X is bound as vec4s (K a multiple of 4); else four scalar loads
 * make each vec4. `bounded`: the function takes `kEnd` after K, and k stops there (a chunk of K) rather than at K.
 */
export function loadFunction(x: 'A' | 'G', vec: boolean, s: GhostKernelShape, rows: number, bounded = false): string {
  const end = bounded ? 'kEnd' : 'K';
  const lines: string[] = [];
  for (let j = 0; j < loadsOf(s, rows); j++) {
    const tile = Math.floor((j * 64) / (rows * s.bk / 4));
    const q = `lid + ${(j * 64) % ((rows * s.bk) / 4)}u`;
    const head = `{ let q = ${q}; let gr = ${tile === 0 ? 'rowI' : 'rowJ'} + q / ${s.bk / 4}u; let gk = kg + (q % ${s.bk / 4}u) * 4u; let e = base + gr * K + gk;`;
    if (vec) {
      lines.push(`${head} s.v${j} = select(vec4<f32>(0.0), ${x}[min(e / 4u, arrayLength(&${x}) - 1u)], gr < T && gk < ${end}); }`);
    } else {
      const el = (c: number) => `select(0.0, ${x}[min(e + ${c}u, arrayLength(&${x}) - 1u)], gr < T && gk + ${c}u < ${end})`;
      lines.push(`${head} s.v${j} = vec4<f32>(${[0, 1, 2, 3].map(el).join(', ')}); }`);
    }
  }
  return `fn load${x}(base : u32, rowI : u32, rowJ : u32, K : u32, ${bounded ? 'kEnd : u32, ' : ''}T : u32, kg : u32, lid : u32) -> Staged {
  var s : Staged;
  ${lines.join('\n  ')}
  return s;
}`;
}

/** Stores a `Staged` (as `load${x}` gave it) into the group's staged tiles [row][k/4]. */
export function storeStaged(s: GhostKernelShape, rows: number): string {
  const lines: string[] = [];
  for (let j = 0; j < loadsOf(s, rows); j++) {
    const tile = Math.floor((j * 64) / (rows * s.bk / 4));
    const q = `lid + ${(j * 64) % ((rows * s.bk) / 4)}u`;
    lines.push(`{ let q = ${q}; sm[stageBase + ${tile * tileVec4(s, rows)}u + (q / ${s.bk / 4}u) * ${rowOf(s)}u + q % ${s.bk / 4}u] = s.v${j}; }`);
  }
  return `fn storeStaged(s : Staged, stageBase : u32, lid : u32) {
  ${lines.join('\n  ')}
}`;
}

/** 0 … n − 1. */
export const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** The r² accumulators of a thread's r×r block of one Gram tile (r = rows/8): I-rows ty + 8i, J-rows tx + 8j. */
export const ACC = (acc: string, r: number) => range(r).flatMap((i) => range(r).map((j) => `${acc}${i}${j}`));

/** acc_ij += Σ_k X[I-row ty + 8i, k] · X[J-row tx + 8j, k] over the group's staged slice. */
export function multiply(acc: string, s: GhostKernelShape, rows: number): string {
  const r = rows / 8;
  const lines: string[] = [];
  for (let k4 = 0; k4 < s.bk / 4; k4++) {
    lines.push('{');
    for (let i = 0; i < r; i++) lines.push(`  let x${i} = sm[stageBase + (ty + ${8 * i}u) * ${rowOf(s)}u + ${k4}u];`);
    for (let j = 0; j < r; j++) lines.push(`  let y${j} = sm[stageBase + ${tileVec4(s, rows)}u + (tx + ${8 * j}u) * ${rowOf(s)}u + ${k4}u];`);
    for (let i = 0; i < r; i++)
      for (let j = 0; j < r; j++) {
        const a = `${acc}${i}${j}`;
        lines.push(`  ${a} = fma(x${i}.w, y${j}.w, fma(x${i}.z, y${j}.z, fma(x${i}.y, y${j}.y, fma(x${i}.x, y${j}.x, ${a}))));`);
      }
    lines.push('}');
  }
  return lines.join('\n      ');
}

/** Σ_j a_ij · g_ij of a thread's accumulator row i: a vec4 dot on 32-row tiles (r = 4), products summed in order on others. */
export const tileRowDot = (i: number, r: number) =>
  r === 4
    ? `dot(vec4<f32>(${range(4).map((j) => `a${i}${j}`).join(', ')}), vec4<f32>(${range(4).map((j) => `g${i}${j}`).join(', ')}))`
    : `(${range(r).map((j) => `a${i}${j} * g${i}${j}`).join(' + ')})`;

/** vec4s a thread's accumulators take in the K groups' reduction (r² values, padded to whole vec4s). */
export const reduceVec4 = (r: number) => Math.ceil((r * r) / 4);

/** Adds the K groups' partial tiles into group 0's accumulators (through workgroup memory, half the groups a round). */
export function reduceGroups(acc: string, s: GhostKernelShape, rows: number): string {
  const accs = ACC(acc, rows / 8);
  const n = reduceVec4(rows / 8);
  // the accumulators four at a time (the last vec4 padded with zeros)
  const chunk = (c: number) => range(4).map((e) => accs[4 * c + e]);
  const packed = range(n).map((c) => `vec4<f32>(${chunk(c).map((v) => v ?? '0.0').join(', ')})`);
  const add = range(n).map((c) => `{ let v = sm[o + ${c}u]; ${chunk(c).flatMap((v, e) => (v ? [`${v} = ${v} + v[${e}];`] : [])).join(' ')} }`);
  const rounds: string[] = [];
  for (let half = s.kg / 2; half >= 1; half /= 2) {
    rounds.push(`workgroupBarrier();
  if (grp >= ${half}u && grp < ${2 * half}u) { let o = ((grp - ${half}u) * 64u + lid) * ${n}u; ${packed.map((v, i) => `sm[o + ${i}u] = ${v};`).join(' ')} }
  workgroupBarrier();
  if (grp < ${half}u) { let o = (grp * 64u + lid) * ${n}u; ${add.join(' ')} }`);
  }
  // the next Gram's staging reuses this memory
  return `${rounds.join('\n  ')}
  workgroupBarrier();`;
}

/**
 * The Gram tile of X (A or G) over its K, summed over the K groups into group 0's accumulators. The
 * next K step's loads are issued before this one's products (in registers while they run). With `chunk`
 * (WGSL expressions), only K in [start, end) (the loads `loadFunction(…, bounded)` made), prefetching.
 */
export function gramLoop(x: 'A' | 'G', base: string, k: 'L.d' | 'L.p', acc: string, prefetch: boolean, s: GhostKernelShape, rows: number, chunk?: { start: string; end: string }): string {
  const step = s.kg * s.bk;
  if (!prefetch && !chunk) {
    return `
  for (var k0 = 0u; k0 < ${k}; k0 = k0 + ${step}u) {
    let st = load${x}(${base}, rowI, rowJ, ${k}, L.T, k0 + grp * ${s.bk}u, lid);
    workgroupBarrier();
    storeStaged(st, stageBase, lid);
    workgroupBarrier();
    ${multiply(acc, s, rows)}
  }
  ${reduceGroups(acc, s, rows)}`;
  }
  const end = chunk?.end ?? k;
  const bound = chunk ? `${k}, ${chunk.end}` : k;
  return `
  {
    var k0 = ${chunk?.start ?? '0u'};
    var st = load${x}(${base}, rowI, rowJ, ${bound}, L.T, ${chunk ? `${chunk.start} + ` : ''}grp * ${s.bk}u, lid);
    loop {
      if (k0 >= ${end}) { break; }
      workgroupBarrier();
      storeStaged(st, stageBase, lid);
      workgroupBarrier();
      let next = k0 + ${step}u;
      if (next < ${end}) { st = load${x}(${base}, rowI, rowJ, ${bound}, L.T, next + grp * ${s.bk}u, lid); }
      ${multiply(acc, s, rows)}
      k0 = next;
    }
  }
  ${reduceGroups(acc, s, rows)}`;
}

/** `loadBiasG(i)`: element i of G (bound as vec4s with `vec`, else as scalars), clamped into the array. */
export function biasLoadWgsl(vec: boolean): string {
  const read = vec ? 'G[min(i / 4u, arrayLength(&G) - 1u)][i % 4u]' : 'G[min(i, arrayLength(&G) - 1u)]';
  return `fn loadBiasG(i : u32) -> f32 { return ${read}; }`;
}

/**
 * `biasChunk(chunk, b, lid)` for a workgroup of `threads` threads: the squared norm of the per-sample bias
 * gradient's columns [256·chunk, 256·chunk + 256), into partials[b, start + pairs + chunk] (the uniform
 * block L names width, T, p, pairs and start; workgroup memory `redBias` holds `threads` floats).
 */
export function biasChunkWgsl(threads: number): string {
  return `/** A bias workgroup: Σ over its chunk of columns j of (Σ_t G[b, t, j])², the threads taking columns in turn (4 rows a step in flight). */
fn biasChunk(chunk : u32, b : u32, lid : u32) {
  var sq = 0.0;
  for (var col = lid; col < ${BIAS_CHUNK}u; col = col + ${threads}u) {
    let j = chunk * ${BIAS_CHUNK}u + col;
    var c0 = 0.0; var c1 = 0.0; var c2 = 0.0; var c3 = 0.0;
    if (j < L.p) {
      let base = b * L.T * L.p + j;
      var t = 0u;
      loop {
        if (t + 4u > L.T) { break; }
        let e = base + t * L.p;
        c0 = c0 + loadBiasG(e); c1 = c1 + loadBiasG(e + L.p); c2 = c2 + loadBiasG(e + 2u * L.p); c3 = c3 + loadBiasG(e + 3u * L.p);
        t = t + 4u;
      }
      for (; t < L.T; t = t + 1u) { c0 = c0 + loadBiasG(base + t * L.p); }
    }
    let c = (c0 + c1) + (c2 + c3);
    sq = sq + c * c;
  }
  redBias[lid] = sq;
  workgroupBarrier();
  for (var s = ${threads / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { redBias[lid] = redBias[lid] + redBias[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { partials[b * L.width + L.start + L.pairs + chunk] = redBias[0]; }
}`;
}

/** WGSL (two spaces in): the workgroup's tile pair `pair` of L.blocks row blocks as (bi, bj), bi ≤ bj. */
export const PAIR_DECODE = `// pair -> (I, J), I <= J, row by row of the upper triangle
  var bi = 0u;
  var r = pair;
  loop {
    let len = L.blocks - bi;
    if (r < len) { break; }
    r = r - len;
    bi = bi + 1u;
  }
  let bj = bi + r;`;

/**
 * The kernels' entry point up to the sample: 8 × 8 threads a K group (tx, ty; lid within the group),
 * `kg` groups (grp), each staging at stageBase; b is the workgroup's sample.
 */
export function gramMainHead(s: GhostKernelShape, rows: number): string {
  return `@compute @workgroup_size(8, 8, ${s.kg})
fn main(@builtin(workgroup_id) wg : vec3<u32>, @builtin(local_invocation_id) l : vec3<u32>) {
  let tx = l.x;
  let ty = l.y;
  let grp = l.z;
  let lid = ty * 8u + tx;
  let stageBase = grp * ${2 * tileVec4(s, rows)}u;
  let b = wg.y;`;
}
