// Test-only: builds safetensors bytes by hand, independently of the writer, so reader tests do not
// trust the code they check. Not exported from the package.

/** `u64 LE length` + `json` (+ optional space padding) + `data`. `lengthField` overrides the length. */
export function handBuilt(
  json: string,
  data: ArrayLike<number> = [],
  options: { padTo8?: boolean; lengthField?: bigint } = {},
): Uint8Array {
  let header = new TextEncoder().encode(json);
  if (options.padTo8) {
    const padded = new Uint8Array(Math.ceil(header.length / 8) * 8).fill(0x20);
    padded.set(header);
    header = padded;
  }
  const out = new Uint8Array(8 + header.length + data.length);
  new DataView(out.buffer).setBigUint64(0, options.lengthField ?? BigInt(header.length), true);
  out.set(header, 8);
  out.set(data, 8 + header.length);
  return out;
}

/** Little-endian bytes of float32 values, written with DataView (independent of the encoder). */
export function f32Bytes(...values: number[]): number[] {
  const view = new DataView(new ArrayBuffer(values.length * 4));
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return [...new Uint8Array(view.buffer)];
}
