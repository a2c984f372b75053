/** Zoom arithmetic of the diagram panel (pure). */

export const MIN_ZOOM = 0.1;
export const MAX_ZOOM = 8;
export const ZOOM_STEP = 1.25;

export function clampZoom(z: number): number {
  if (!Number.isFinite(z) || z <= 0) {
    return 1;
  }
  return Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, z));
}

/** The zoom that shows all of a `width` x `height` drawing in the viewport (never above 2x). */
export function fitZoom(width: number, height: number, viewportWidth: number, viewportHeight: number): number {
  if (width <= 0 || height <= 0 || viewportWidth <= 0 || viewportHeight <= 0) {
    return 1;
  }
  return clampZoom(Math.min(viewportWidth / width, viewportHeight / height, 2));
}

/** Natural size of an SVG from its `viewBox` (else `width`/`height`), or undefined. */
export function naturalSize(viewBox: string | null, width: string | null, height: string | null): { width: number; height: number } | undefined {
  if (viewBox) {
    const parts = viewBox.trim().split(/[\s,]+/).map(Number);
    if (parts.length === 4 && parts.every(Number.isFinite) && parts[2] > 0 && parts[3] > 0) {
      return { width: parts[2], height: parts[3] };
    }
  }
  const w = Number.parseFloat(width ?? '');
  const h = Number.parseFloat(height ?? '');
  return w > 0 && h > 0 ? { width: w, height: h } : undefined;
}
