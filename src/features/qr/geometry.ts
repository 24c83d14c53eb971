/** Small plane-geometry helpers for masking codes already found. */

export interface Point {
  x: number;
  y: number;
}

/**
 * Calls `paint(x, y)` for every integer pixel inside the convex polygon `corners`, grown by
 * `grow` (0.2 = 20%) around its centre and clipped to `width` × `height`. Growing takes the quiet
 * zone along, so the detector does not see the erased code's finder patterns again.
 */
export function forEachPixelInside(
  corners: Point[],
  grow: number,
  width: number,
  height: number,
  paint: (x: number, y: number) => void,
): void {
  const cx = corners.reduce((s, p) => s + p.x, 0) / corners.length;
  const cy = corners.reduce((s, p) => s + p.y, 0) / corners.length;
  const poly = corners.map((p) => ({ x: cx + (p.x - cx) * (1 + grow), y: cy + (p.y - cy) * (1 + grow) }));
  const x0 = Math.max(0, Math.floor(Math.min(...poly.map((p) => p.x))));
  const x1 = Math.min(width - 1, Math.ceil(Math.max(...poly.map((p) => p.x))));
  const y0 = Math.max(0, Math.floor(Math.min(...poly.map((p) => p.y))));
  const y1 = Math.min(height - 1, Math.ceil(Math.max(...poly.map((p) => p.y))));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) if (insideConvex(poly, x, y)) paint(x, y);
  }
}

/** True when (x, y) lies inside the convex polygon (either winding, edges included). */
export function insideConvex(poly: Point[], x: number, y: number): boolean {
  let sign = 0;
  for (let i = 0; i < poly.length; i++) {
    const a = poly[i];
    const b = poly[(i + 1) % poly.length];
    const cross = (b.x - a.x) * (y - a.y) - (b.y - a.y) * (x - a.x);
    if (cross === 0) continue;
    const s = cross > 0 ? 1 : -1;
    if (sign === 0) sign = s;
    else if (s !== sign) return false;
  }
  return true;
}
