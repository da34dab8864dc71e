import { clipBiasScaleOf, clipBindingCount, clipBindings, clipPrologue, clipScaleOf, clipUniformFields } from './matmul-clip-prologue';

/**
 * WGSL for a register-blocked, shared-memory-tiled fp32 matmul `C[b] = op(A[b]) · op(B[b]) (+ bias)`:
 * a workgroup computes a BM×BN tile of C, stepping through K in slices of BK that it stages in
 * workgroup memory, double-buffered (the next slice's global loads are in flight while the current
 * one is multiplied: one barrier a slice). Each thread keeps an RM·4 × RN·4 block of C in vec4
 * registers, split into 4×4 blocks strided BM/RM apart so that a warp's vec4 reads of the staged
 * tiles hit distinct banks. Transposed operands are read in place: only the global-load addressing
 * changes. The code is generated fully unrolled per tile configuration (no register arrays indexed at
 * run time, which would spill to local memory).
 *
 * Bindings: 0 C (or split-K partials), 1 A, 2 B, [bias], [kscale], [R, added like the bias], [DB], [H],
 * [P, norms, factors: `clipA`], then the uniform block (`MatmulLayout`):
 * each operand is a strided view, batch entry z = (outer, inner) with inner = z mod heads at
 * base + outer·outerStride + inner·innerStride, rows ld apart; a plain batched product has heads 1.
 */
export interface MatmulTile {
  /** Output tile rows and columns per workgroup. */
  readonly bm: number;
  readonly bn: number;
  /** K slice staged per step. */
  readonly bk: number;
  /** 4×4 register blocks per thread along M and N. */
  readonly rm: 1 | 2 | 4;
  readonly rn: 1 | 2 | 4;
  /**
   * How a warp's 32 threads are laid out over the thread grid: `[x, y]` lanes along N and M (x·y =
   * 32), e.g. [8, 4] makes each warp a compact 8×4 block of threads, whose reads of the staged tiles
   * touch 4 distinct vec4 of A and 8 of B per step instead of 2 and 16 (row-major threads: a warp is
   * two whole thread rows). Absent: row-major.
   */
  readonly lanes?: readonly [number, number];
}

export interface MatmulVariant {
  readonly tile: MatmulTile;
  readonly transposeA: boolean;
  readonly transposeB: boolean;
  /** vec4 global loads for A / B (their contiguous dimension is a multiple of 4). */
  readonly vecA: boolean;
  readonly vecB: boolean;
  /** vec4 stores of C (N is a multiple of 4). */
  readonly vecC: boolean;
  readonly bias: boolean;
  /** A's K axis scaled by kscale[k / kGroup] as it is staged (Book-Keeping's Σ_i c_i a_iᵀ dy_i in one product). */
  readonly kScaleA?: boolean;
  /**
   * A's K axis scaled by clip factors the product forms itself from per-sample squared-norm partials,
   * held in a workgroup array of `capacity` (`matmul-clip-prologue.ts`); not with `kScaleA`. `apart`:
   * the partials' last columns are a bias clipped apart, whose own factors scale the row or column of
   * `ones` (which it then needs).
   */
  readonly clipA?: { readonly capacity: number; readonly apart?: boolean; readonly staged?: boolean };
  /** R (laid out as C) added in the epilogue: a residual connection's x + (a W + b) in the product's launch. */
  readonly residual?: boolean;
  /**
   * A row of ones staged under A (A transposed; scaled like A by kscale), so output row M is
   * Σ_k kscale_k B[k, :], or a column of ones beside B (B not transposed), so output column N is
   * Σ_k kscale_k A[k, :]: a linear layer's bias gradient beside its weight gradient in one product
   * ([in, out] and [out, in] weights). `to` 'out': that row or column goes to its own binding DB;
   * 'partials': it stays in the split-K partials ([M + 1, N] or [M, N + 1] a split), which the split
   * sum routes to DB.
   */
  readonly ones?: { readonly side: 'row' | 'col'; readonly to: 'out' | 'partials' };
  /**
   * An activation in the epilogue: C = act(v) and H = v, v the product (+ bias): a linear layer and
   * its GELU in one launch, H kept for the activation's backward. `wgsl` is act's value in terms of x.
   */
  readonly act?: { readonly key: string; readonly wgsl: string };
}

export function threadsOf(t: MatmulTile): [number, number] {
  return [t.bn / (4 * t.rn), t.bm / (4 * t.rm)];
}

export function variantKey(v: MatmulVariant): string {
  const t = v.tile;
  return `clipwiseMatmul_${t.bm}x${t.bn}x${t.bk}_r${t.rm}${t.rn}${t.lanes ? `_l${t.lanes[0]}x${t.lanes[1]}` : ''}_t${+v.transposeA}${+v.transposeB}_v${+v.vecA}${+v.vecB}${+v.vecC}_b${+v.bias}_s${+(v.kScaleA ?? false)}_r${+(v.residual ?? false)}_o${v.ones ? v.ones.side + v.ones.to : '-'}_a${v.act?.key ?? '-'}${v.clipA ? `_c${v.clipA.capacity}${v.clipA.apart ? 'a' : ''}${v.clipA.staged ? 's' : ''}` : ''}`;
}

/** Checks a tile is one the generator supports (each thread loads whole vec4s of both staged tiles). */
export function checkTile(t: MatmulTile): void {
  const [tx, ty] = threadsOf(t);
  const threads = tx * ty;
  const lanesOk = !t.lanes || (t.lanes[0] * t.lanes[1] === 32 && tx % t.lanes[0] === 0 && ty % t.lanes[1] === 0);
  const ok =
    Number.isInteger(tx) && Number.isInteger(ty) && threads <= 1024 && t.bk % 4 === 0 && lanesOk &&
    (t.bm * t.bk) % (4 * threads) === 0 && (t.bn * t.bk) % (4 * threads) === 0 &&
    2 * 4 * t.bk * (t.bm + t.bn) <= 32 * 1024 && t.rm * t.rn <= 8;
  if (!ok) throw new Error(`matmul tile ${JSON.stringify(t)} is not supported`);
}

/**
 * Loads of one operand's staged slice: `rows` = its M (or N) extent, row-major in the staged layout
 * [k][rows/4] of vec4. `kMajor`: the operand's contiguous axis is K (A untransposed, B transposed).
 */
function stagingLoads(name: 'A' | 'B', rows: number, bk: number, threads: number, kMajor: boolean, vec: boolean, extent: string, scale: ((k: string) => string) | null = null, onesRow = false, onesValue: ((k: string) => string) | null = null): { load: string; store: string; regs: string } {
  if (onesRow && kMajor) throw new Error('matmul: ones are staged only along an operand\'s contiguous M or N (A transposed, B not)');
  // the ones' staged value: 1 before any scaling (scaled as the operand is), or `onesValue(k)` after it
  const ones = (r: string, vec4: boolean, value: string) => ` ${r} = select(${r}, ${vec4 ? `vec4<f32>(${value}, 0.0, 0.0, 0.0)` : value}, gr == ${extent} && gk < kEnd);`;
  const onesBefore = (r: string, vec4: boolean) => (onesRow && !onesValue ? ones(r, vec4, '1.0') : '');
  const onesAfter = (r: string, vec4: boolean) => (onesRow && onesValue ? ones(r, vec4, onesValue('gk')) : '');
  // the per-k factor of a scaled operand (k < kEnd wherever a value is kept)
  const ks = scale ?? ((k: string) => k);
  const scaled = scale !== null;
  const base = name === 'A' ? 'sa' : 'sb';
  const lines: string[] = [];
  const stores: string[] = [];
  const regs: string[] = [];
  const off = name === 'A' ? 'offA' : 'offB';
  const ld = name === 'A' ? 'u.lda' : 'u.ldb';
  const origin = name === 'A' ? 'm0' : 'n0';
  const sh = `tile${name}`;
  if (vec) {
    const count = (rows * bk) / 4 / threads;
    for (let j = 0; j < count; j++) {
      const r = `${name.toLowerCase()}r${j}`;
      regs.push(`var ${r} : vec4<f32>;`);
      const q = `(lid + ${j * threads}u)`;
      if (kMajor) {
        // vec4 along k: row = q / (bk/4), k4 = q % (bk/4)
        lines.push(`{ let row = ${q} / ${bk / 4}u; let kk = (${q} % ${bk / 4}u) * 4u; let gr = ${origin} + row; let gk = kl + kk;
      ${r} = select(vec4<f32>(0.0), ${name}[min((${off} + gr * ${ld} + gk) / 4u, arrayLength(&${name}) - 1u)], gr < ${extent} && gk < kEnd);${scaled ? ` ${r} = ${r} * vec4<f32>(${ks('gk')}, ${ks('gk + 1u')}, ${ks('gk + 2u')}, ${ks('gk + 3u')});` : ''} }`);
        stores.push(`{ let row = ${q} / ${bk / 4}u; let kk = (${q} % ${bk / 4}u) * 4u; let base = ${base} + kk * ${rows / 4}u + row / 4u; let c = row % 4u;
      ${sh}[base][c] = ${r}.x; ${sh}[base + ${rows / 4}u][c] = ${r}.y; ${sh}[base + ${rows / 2}u][c] = ${r}.z; ${sh}[base + ${(3 * rows) / 4}u][c] = ${r}.w; }`);
      } else {
        // vec4 along rows: kk = q / (rows/4), r4 = q % (rows/4)
        // (the row of ones starts a vec4 of its own: vec4 staging needs M a multiple of 4)
        lines.push(`{ let kk = ${q} / ${rows / 4}u; let r4 = ${q} % ${rows / 4}u; let gr = ${origin} + r4 * 4u; let gk = kl + kk;
      ${r} = select(vec4<f32>(0.0), ${name}[min((${off} + gk * ${ld} + gr) / 4u, arrayLength(&${name}) - 1u)], gr < ${extent} && gk < kEnd);${onesBefore(r, true)}${scaled ? ` ${r} = ${r} * ${ks('gk')};` : ''}${onesAfter(r, true)} }`);
        stores.push(`{ let kk = ${q} / ${rows / 4}u; let r4 = ${q} % ${rows / 4}u; ${sh}[${base} + kk * ${rows / 4}u + r4] = ${r}; }`);
      }
    }
  } else {
    const count = (rows * bk) / threads;
    for (let j = 0; j < count; j++) {
      const r = `${name.toLowerCase()}s${j}`;
      regs.push(`var ${r} : f32;`);
      const q = `(lid + ${j * threads}u)`;
      // consecutive threads read consecutive addresses along the operand's contiguous axis
      const [row, kk] = kMajor ? [`${q} / ${bk}u`, `${q} % ${bk}u`] : [`${q} % ${rows}u`, `${q} / ${rows}u`];
      const addr = kMajor ? `${off} + gr * ${ld} + gk` : `${off} + gk * ${ld} + gr`;
      lines.push(`{ let row = ${row}; let kk = ${kk}; let gr = ${origin} + row; let gk = kl + kk;
      ${r} = select(0.0, ${name}[min(${addr}, arrayLength(&${name}) - 1u)], gr < ${extent} && gk < kEnd);${onesBefore(r, false)}${scaled ? ` ${r} = ${r} * ${ks('gk')};` : ''}${onesAfter(r, false)} }`);
      stores.push(`{ let row = ${row}; let kk = ${kk}; ${sh}[${base} + kk * ${rows / 4}u + row / 4u][row % 4u] = ${r}; }`);
    }
  }
  return { load: lines.join('\n      '), store: stores.join('\n      '), regs: regs.join('\n  ') };
}

/** The complete WGSL module of one variant (entry point `main`). */
export function matmulWgsl(v: MatmulVariant): string {
  const t = v.tile;
  checkTile(t);
  const [tx, ty] = threadsOf(t);
  const threads = tx * ty;
  if (v.clipA && v.kScaleA) throw new Error('matmul: clipA and kScaleA are two sources of one K scale; take one');
  const kscale = (k: string) => `kscale[min((${k}) / u.kGroup, arrayLength(&kscale) - 1u)]`;
  const aScale = v.clipA ? clipScaleOf : v.kScaleA ? kscale : null;
  const apart = v.clipA?.apart === true;
  if (apart && !v.ones) throw new Error('matmul: a bias clipped apart needs the row or column of ones its factors scale');
  // a bias clipped apart: a row of ones under A is staged as its factor (after A's scaling); a column
  // beside B (unscaled) as its factor over the weight's, which A's scaling multiplies back
  const aOnes = apart ? clipBiasScaleOf : null;
  const bOnes = apart ? (k: string) => `${clipBiasScaleOf(k)} / ${clipScaleOf(k)}` : null;
  const a = stagingLoads('A', t.bm, t.bk, threads, !v.transposeA, v.vecA, 'u.M', aScale, v.ones?.side === 'row', aOnes);
  const b = stagingLoads('B', t.bn, t.bk, threads, v.transposeB, v.vecB, 'u.N', null, v.ones?.side === 'col', bOnes);
  const aStride = t.bm / 4; // vec4 per staged k row
  const bStride = t.bn / 4;
  const acc: string[] = [];
  for (let r = 0; r < t.rm; r++) for (let i = 0; i < 4; i++) for (let c = 0; c < t.rn; c++) acc.push(`acc${r}${i}${c}`);
  const inner: string[] = [];
  for (let kk = 0; kk < t.bk; kk++) {
    inner.push('{');
    for (let r = 0; r < t.rm; r++) inner.push(`let a${r} = tileA[ca + ${kk * aStride + (r * t.bm) / t.rm / 4}u + ty];`);
    for (let c = 0; c < t.rn; c++) inner.push(`let b${c} = tileB[cb + ${kk * bStride + (c * t.bn) / t.rn / 4}u + tx];`);
    for (let r = 0; r < t.rm; r++)
      for (let i = 0; i < 4; i++) for (let c = 0; c < t.rn; c++) inner.push(`acc${r}${i}${c} = fma(vec4<f32>(a${r}[${i}]), b${c}, acc${r}${i}${c});`);
    inner.push('}');
  }
  const stores: string[] = [];
  for (let r = 0; r < t.rm; r++)
    for (let i = 0; i < 4; i++)
      for (let c = 0; c < t.rn; c++) {
        const row = `m0 + ${(r * t.bm) / t.rm}u + ty * 4u + ${i}u`;
        const col = `n0 + ${(c * t.bn) / t.rn}u + tx * 4u`;
        stores.push(`store(${row}, ${col}, acc${r}${i}${c});`);
      }
  const vecOf = (x: boolean) => (x ? 'vec4<f32>' : 'f32');
  const dbOut = v.ones?.to === 'out';
  // the bindings after H: the clip prologue's, then the uniform block
  const afterH = 3 + +v.bias + +(v.kScaleA ?? false) + +(v.residual ?? false) + +dbOut + +(v.act !== undefined);
  return /* wgsl */ `
struct U {
  M : u32, N : u32, K : u32, kPerSplit : u32, splits : u32, heads : u32, splitStride : u32, kGroup : u32,
  baseA : u32, outerA : u32, innerA : u32, lda : u32,
  baseB : u32, outerB : u32, innerB : u32, ldb : u32,
  baseC : u32, outerC : u32, innerC : u32, ldc : u32,${v.clipA ? `
  ${clipUniformFields(apart)}` : ''}
};
@group(0) @binding(0) var<storage, read_write> C : array<${vecOf(v.vecC)}>;
@group(0) @binding(1) var<storage, read> A : array<${vecOf(v.vecA)}>;
@group(0) @binding(2) var<storage, read> B : array<${vecOf(v.vecB)}>;
${v.bias ? `@group(0) @binding(3) var<storage, read> bias : array<${vecOf(v.vecC)}>;\n` : ''}${v.kScaleA ? `@group(0) @binding(${v.bias ? 4 : 3}) var<storage, read> kscale : array<f32>;\n` : ''}${v.residual ? `@group(0) @binding(${3 + +v.bias + +(v.kScaleA ?? false)}) var<storage, read> R : array<${vecOf(v.vecC)}>;\n` : ''}${dbOut ? `@group(0) @binding(${3 + +v.bias + +(v.kScaleA ?? false) + +(v.residual ?? false)}) var<storage, read_write> DB : array<${v.ones!.side === 'row' ? vecOf(v.vecC) : 'f32'}>;\n` : ''}${v.act ? `@group(0) @binding(${3 + +v.bias + +(v.kScaleA ?? false) + +(v.residual ?? false) + +dbOut}) var<storage, read_write> H : array<${vecOf(v.vecC)}>;\n` : ''}${v.clipA ? clipBindings(afterH, v.clipA.capacity, apart) : ''}@group(0) @binding(${afterH + (v.clipA ? clipBindingCount(apart) : 0)}) var<uniform> u : U;

var<workgroup> tileA : array<vec4<f32>, ${2 * t.bk * aStride}>;
var<workgroup> tileB : array<vec4<f32>, ${2 * t.bk * bStride}>;

var<private> offC : u32;
${v.act ? `\nfn act(x : f32) -> f32 { return ${v.act.wgsl}; }\n` : ''}
fn store(row : u32, col : u32, value : vec4<f32>) {
${storeBody(v)}
}

@compute @workgroup_size(${t.lanes ? `${threads}, 1` : `${tx}, ${ty}`}, 1)
fn main(@builtin(workgroup_id) wg : vec3<u32>, @builtin(local_invocation_id) l : vec3<u32>) {
  ${threadIndex(t, tx)}
  let n0 = wg.x * ${t.bn}u;
  let m0 = wg.y * ${t.bm}u;
  let batch = wg.z / u.splits;
  let split = wg.z % u.splits;
  // batch entry = (outer, inner) with inner < heads: strided views (attention heads inside [B, T, H·hd])
  let outer = batch / u.heads;
  let inner = batch % u.heads;
  let offA = u.baseA + outer * u.outerA + inner * u.innerA;
  let offB = u.baseB + outer * u.outerB + inner * u.innerB;
  offC = u.baseC + outer * u.outerC + inner * u.innerC + split * u.splitStride;
  let kBegin = split * u.kPerSplit;
  let kEnd = min(u.K, kBegin + u.kPerSplit);
  ${v.clipA ? clipPrologue(threads, apart, v.clipA.staged ? 2 * t.bk * t.bm : 0) : ''}
  ${acc.map((n) => `var ${n} = vec4<f32>(0.0);`).join('\n  ')}
  ${a.regs}
  ${b.regs}
  // double-buffered staging: compute from one half while the other is filled
  var sel = 0u;
  var kl = kBegin;
  {
    let sa = 0u;
    let sb = 0u;
    ${a.load}
    ${b.load}
    ${a.store}
    ${b.store}
  }
  workgroupBarrier();
  var k0 = kBegin;
  loop {
    if (k0 >= kEnd) { break; }
    let kNext = k0 + ${t.bk}u;
    let more = kNext < kEnd;
    kl = kNext;
    if (more) {
      ${a.load}
      ${b.load}
    }
    let ca = sel * ${t.bk * aStride}u;
    let cb = sel * ${t.bk * bStride}u;
    ${inner.join('\n    ')}
    if (more) {
      let sa = ${t.bk * aStride}u - ca;
      let sb = ${t.bk * bStride}u - cb;
      ${a.store}
      ${b.store}
    }
    workgroupBarrier();
    sel = 1u - sel;
    k0 = kNext;
  }
  ${stores.join('\n  ')}
}
`;
}

/**
 * The thread's place in the thread grid (tx along N, ty along M) and its linear index lid (the staging
 * loads'): row-major, or warp by warp in blocks of lanes[0] × lanes[1] threads (`MatmulTile.lanes`).
 */
function threadIndex(t: MatmulTile, tx: number): string {
  if (!t.lanes) return `let tx = l.x;
  let ty = l.y;
  let lid = ty * ${tx}u + tx;`;
  const [lx, ly] = t.lanes;
  const warpsX = tx / lx;
  return `let lid = l.x;
  let lane = lid % 32u;
  let warp = lid / 32u;
  let tx = (warp % ${warpsX}u) * ${lx}u + lane % ${lx}u;
  let ty = (warp / ${warpsX}u) * ${ly}u + lane / ${lx}u;`;
}

/**
 * The store of one thread's 4 outputs (row, col..col+3), bias and residual added; with `ones`, the
 * extra row M or column N goes to DB ('out') or stays in the split-K partials, laid out with it.
 */
function storeBody(v: MatmulVariant): string {
  const ones = v.ones;
  const rowOut = ones?.side === 'row' && ones.to === 'out';
  const colOut = ones?.side === 'col' && ones.to === 'out';
  // rows and columns the output (or the partials) hold
  const rows = ones?.side === 'row' && ones.to === 'partials' ? 'u.M + 1u' : 'u.M';
  const cols = ones?.side === 'col' && ones.to === 'partials' ? 'u.N + 1u' : 'u.N';
  const epilogue = (k: string, at: string) => `${v.bias ? ` + bias[${k}]` : ''}${v.residual ? ` + R[${at}]` : ''}`;
  if (v.act && (ones || v.residual)) throw new Error('matmul: an activation epilogue goes with neither ones nor a residual');
  const lines: string[] = [];
  if (rowOut) {
    lines.push(`  if (row == u.M) {
    ${v.vecC ? 'if (col < u.N) { DB[col / 4u] = value; }' : 'for (var j = 0u; j < 4u; j = j + 1u) { if (col + j < u.N) { DB[col + j] = value[j]; } }'}
    return;
  }`);
  }
  lines.push(`  if (row >= ${rows}) { return; }`);
  if (v.vecC) {
    lines.push(`  if (col < ${cols}) {
    let at = (offC + row * u.ldc + col) / 4u;
    ${v.act ? `let v = value${epilogue('col / 4u', 'at')};
    H[at] = v;
    C[at] = vec4<f32>(act(v.x), act(v.y), act(v.z), act(v.w));` : `C[at] = value${epilogue('col / 4u', 'at')};`}
  }${colOut ? ' else if (col == u.N) { DB[row] = value.x; }' : ''}`);
  } else {
    lines.push(`  for (var j = 0u; j < 4u; j = j + 1u) {
    let at = offC + row * u.ldc + col + j;
    if (col + j < ${cols}) { ${v.act ? `let v = value[j]${epilogue('col + j', 'at')}; H[at] = v; C[at] = act(v);` : `C[at] = value[j]${epilogue('col + j', 'at')};`} }${colOut ? ' else if (col + j == u.N) { DB[row] = value[j]; }' : ''}
  }`);
  }
  return lines.join('\n');
}
