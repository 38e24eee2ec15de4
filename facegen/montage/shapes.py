"""Curve helpers in canvas units (0..1 on both axes). Points are float arrays of shape (n, 2)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

Point = tuple[float, float]


@lru_cache(maxsize=64)
def _steps(n: int) -> np.ndarray:
    t = np.linspace(0.0, 1.0, n)[:, None]
    t.setflags(write=False)
    return t


def bezier(p0: Point, p1: Point, p2: Point, p3: Point, n: int = 16) -> np.ndarray:
    t = _steps(n)
    p0, p1, p2, p3 = (np.asarray(p, dtype=np.float64) for p in (p0, p1, p2, p3))
    return ((1 - t) ** 3) * p0 + 3 * ((1 - t) ** 2) * t * p1 + 3 * (1 - t) * t * t * p2 + (t ** 3) * p3


def hermite(a: Point, ta: Point, b: Point, tb: Point, n: int = 16) -> np.ndarray:
    """Cubic from a to b leaving a along direction ta and arriving at b along tb."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    ta, tb = _unit(ta), _unit(tb)
    d = float(np.linalg.norm(b - a)) / 3.0
    return bezier(a, a + ta * d, b - tb * d, b, n)


def quad(a: Point, c: Point, b: Point, n: int = 12) -> np.ndarray:
    """Quadratic curve from a to b pulled toward c."""
    t = _steps(n)
    a, c, b = (np.asarray(p, float) for p in (a, c, b))
    return ((1 - t) ** 2) * a + 2 * (1 - t) * t * c + t * t * b


def ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 32,
            start: float = 0.0, end: float = 2 * np.pi) -> np.ndarray:
    """Points on an ellipse; angles in radians, 0 = +x, π/2 = +y (down)."""
    cos, sin = _circle(n, float(start), float(end))
    return np.stack([cx + rx * cos, cy + ry * sin], axis=1)


@lru_cache(maxsize=256)
def _circle(n: int, start: float, end: float) -> tuple[np.ndarray, np.ndarray]:
    t = np.linspace(start, end, n, endpoint=(end - start) < 2 * np.pi - 1e-9)
    cos, sin = np.cos(t), np.sin(t)
    cos.setflags(write=False)
    sin.setflags(write=False)
    return cos, sin


def mirror(points: np.ndarray, cx: float = 0.5) -> np.ndarray:
    """Reflect across the vertical line x = cx, reversing the order (so outlines stay closed)."""
    out = np.array(points[::-1], dtype=np.float64)
    out[:, 0] = 2 * cx - out[:, 0]
    return out


def rotate(points: np.ndarray, centre: Point, degrees: float) -> np.ndarray:
    """Rotate by `degrees`, positive turning +x toward −y (counter-clockwise on screen)."""
    a = np.radians(degrees)
    rot = np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])
    c = np.asarray(centre, float)
    return (np.asarray(points, float) - c) @ rot + c


def stroke(points: np.ndarray, widths) -> np.ndarray:
    """A filled outline around a polyline, `widths` (scalar or per point) across; tapered strokes."""
    pts = np.asarray(points, float)
    w = np.broadcast_to(np.asarray(widths, float), (len(pts),))
    tangent = np.empty_like(pts)          # np.gradient's differences, without its overhead
    tangent[1:-1] = (pts[2:] - pts[:-2]) / 2.0
    tangent[0], tangent[-1] = pts[1] - pts[0], pts[-1] - pts[-2]
    norm = np.linalg.norm(tangent, axis=1, keepdims=True)
    tangent = tangent / np.where(norm == 0, 1, norm)
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], axis=1)
    left = pts + normal * (w[:, None] / 2)
    right = pts - normal * (w[:, None] / 2)
    return np.concatenate([left, right[::-1]])


def taper(n: int, width: float, head: float = 0.25, tail: float = 0.25, floor: float = 0.15) -> np.ndarray:
    """Per-point widths that swell from thin ends to `width` in the middle."""
    t = np.linspace(0.0, 1.0, n)
    rise = np.clip(t / max(head, 1e-6), 0, 1)
    fall = np.clip((1 - t) / max(tail, 1e-6), 0, 1)
    return width * (floor + (1 - floor) * np.sin(np.minimum(rise, fall) * np.pi / 2))


def _unit(v: Point) -> np.ndarray:
    v = np.asarray(v, float)
    n = float(np.linalg.norm(v))
    return v / n if n else v
