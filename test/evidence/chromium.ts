/**
 * Screenshots in Debian's headless Chromium, and just enough PNG decoding (node:zlib) to ask
 * what share of the first screen has a given colour.
 *
 * @example
 * ```ts
 * const png = await screenshot("/tmp/pack/index.html", "/tmp/pack.png");
 * shareOf(png, [0xfd, 0xec, 0xec]); // 0.23
 * ```
 * @module
 */
import { inflateSync } from "node:zlib";

/** A decoded image: RGBA rows. */
export interface Image {
  width: number;
  height: number;
  rgba: Uint8Array;
}

/** Opens `html` in headless Chromium and decodes its screenshot (1280×900). */
export async function screenshot(html: string, png: string): Promise<Image> {
  const profile = await Deno.makeTempDir({ prefix: "chromium-profile-" });
  try {
    const out = await new Deno.Command("chromium", {
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        `--user-data-dir=${profile}`,
        "--hide-scrollbars",
        "--window-size=1280,900",
        `--screenshot=${png}`,
        `file://${html}`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  } finally {
    await Deno.remove(profile, { recursive: true });
  }
  return decodePng(await Deno.readFile(png));
}

/** Share (0..1) of pixels within ±3 of `rgb`. */
export function shareOf(image: Image, rgb: [number, number, number]): number {
  let hits = 0;
  for (let i = 0; i < image.rgba.length; i += 4) {
    if (rgb.every((c, k) => Math.abs(image.rgba[i + k] - c) <= 3)) hits++;
  }
  return hits / (image.width * image.height);
}

/** Decodes an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes). */
export function decodePng(bytes: Uint8Array): Image {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 8;
  let width = 0, height = 0, channels = 0;
  const data: Uint8Array[] = [];
  while (offset < bytes.length) {
    const length = view.getUint32(offset);
    const type = new TextDecoder().decode(bytes.subarray(offset + 4, offset + 8));
    const chunk = bytes.subarray(offset + 8, offset + 8 + length);
    if (type === "IHDR") {
      width = view.getUint32(offset + 8);
      height = view.getUint32(offset + 12);
      const [depth, color, , , interlace] = chunk.subarray(8, 13);
      if (depth !== 8 || interlace !== 0 || (color !== 2 && color !== 6)) {
        throw new Error(`unsupported PNG (depth ${depth}, colour ${color})`);
      }
      channels = color === 6 ? 4 : 3;
    }
    if (type === "IDAT") data.push(chunk);
    offset += 12 + length;
  }
  const raw = inflateSync(concat(data));
  const stride = width * channels;
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? pixels[y * stride + x - channels] : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + x] : 0;
      const c = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels] : 0;
      const predictor = [0, a, b, (a + b) >> 1, paeth(a, b, c)][filter];
      pixels[y * stride + x] = (line[x] + predictor) & 0xff;
    }
  }
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0, j = 0; i < pixels.length; i += channels, j += 4) {
    rgba.set(pixels.subarray(i, i + 3), j);
    rgba[j + 3] = channels === 4 ? pixels[i + 3] : 255;
  }
  return { width, height, rgba };
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
