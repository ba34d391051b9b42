"""Synthetic cartoon road scenes with exact CamVid-11 masks: the app's demo set and test data.

A pinhole camera looks down a street: road with lane marks, pavements, building facades with
windows, sky, then trees, poles, signs, fences, cars, pedestrians, cyclists and a few void
objects drawn far to near. Object colours are randomised (grey cars on grey road, beige walls
under a pale sky), and texture noise, shadows, brightness and colour casts are added so the
classes cannot be told apart by colour alone. Everything comes from one numpy Generator seeded
by (seed, index) and OpenCV's deterministic rasteriser, so a seed gives the same bytes.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from core.classes import CAMVID11, IGNORE_INDEX
from core.errors import ConfigError, DataError

SKY, BUILDING, POLE, ROAD, PAVEMENT, TREE, SIGN, FENCE, CAR, PEDESTRIAN, BICYCLIST = range(11)
VOID = IGNORE_INDEX
_SHIFT = 4  # sub-pixel bits for cv2 drawing, so tiny far objects keep their shape
_ONE = 1 << _SHIFT
# Per-class amplitude of the grain noise (asphalt grainy, foliage busy, sky smooth).
_GRAIN = np.full(256, 8.0, np.float32)
_GRAIN[:11] = (2.5, 8, 5, 11, 9, 16, 4, 7, 6, 7, 7)


def _jitter(rng, color, amount=18) -> tuple[int, int, int]:
    c = np.clip(np.asarray(color, float) + rng.uniform(-amount, amount, 3), 0, 255)
    return tuple(int(v) for v in c)


class _Scene:
    """Camera + canvas: projects 3-D points (X right, Y up, Z forward, metres) and paints both
    the picture and the mask with one call, so they can never disagree."""

    def __init__(self, rng: np.random.Generator, h: int, w: int):
        self.rng, self.h, self.w = rng, h, w
        self.f = w * rng.uniform(0.8, 1.0)
        self.yh = h * rng.uniform(0.36, 0.5)
        self.xv = w * (0.5 + rng.uniform(-0.07, 0.07))
        self.hc = rng.uniform(1.2, 1.6)
        self.img = np.zeros((h, w, 3), np.uint8)
        self.mask = np.zeros((h, w), np.uint8)

    def proj(self, pts) -> np.ndarray:
        p = np.asarray(pts, np.float64).reshape(-1, 3)
        z = np.maximum(p[:, 2], 0.3)
        return np.stack([self.xv + self.f * p[:, 0] / z,
                         self.yh + self.f * (self.hc - p[:, 1]) / z], 1)

    def fill(self, polys, cls: int, color) -> None:
        """Fill screen-space polygons (each Nx2 pixels)."""
        if isinstance(polys, np.ndarray):
            pts = list(np.round(polys * _ONE).astype(np.int32))
        else:
            pts = [np.round(np.asarray(q) * _ONE).astype(np.int32) for q in polys]
        cv2.fillPoly(self.img, pts, color, cv2.LINE_8, _SHIFT)
        cv2.fillPoly(self.mask, pts, cls, cv2.LINE_8, _SHIFT)

    def fill3d(self, polys, cls: int, color) -> None:
        """Fill 3-D polygons; same-length ones are projected in one vectorised call."""
        if len({len(q) for q in polys}) == 1:
            arr = np.asarray(polys, np.float64)
            self.fill(self.proj(arr).reshape(arr.shape[0], arr.shape[1], 2), cls, color)
        else:
            self.fill([self.proj(q) for q in polys], cls, color)

    def sprite(self, x: float, z: float):
        """Mapper from local upright metres (dx right, dy up) at ground point (x, z) to pixels."""
        (x0, yb), s = self.proj([(x, 0.0, z)])[0], self.f / z
        return (lambda pts: np.stack([x0 + s * np.asarray(pts)[:, 0],
                                      yb - s * np.asarray(pts)[:, 1]], 1)), s

    def line(self, p, q, thick_px: float, cls: int, color) -> None:
        a, b, t = _fixed(p), _fixed(q), max(1, round(thick_px))
        for canvas, value in ((self.img, color), (self.mask, cls)):
            cv2.line(canvas, a, b, value, t, cv2.LINE_8, _SHIFT)

    def disc(self, c, r_px: float, cls: int, color, thick_px: float = -1) -> None:
        r, t = max(round(r_px * _ONE), _ONE // 2), -1 if thick_px < 0 else max(1, round(thick_px))
        for canvas, value in ((self.img, color), (self.mask, cls)):
            cv2.circle(canvas, _fixed(c), r, value, t, cv2.LINE_8, _SHIFT)


def _fixed(p) -> tuple[int, int]:
    return round(float(p[0]) * _ONE), round(float(p[1]) * _ONE)


# Polygons in 3-D (metres): a vertical rectangle in the plane X = x (facade, fence, car side),
# one facing the camera at depth z, and a patch of ground; _rect is a sprite's local rectangle.
def _quad_x(x, y0, y1, z0, z1):
    return [(x, y0, z0), (x, y1, z0), (x, y1, z1), (x, y0, z1)]


def _quad_z(x0, x1, y0, y1, z):
    return [(x0, y0, z), (x1, y0, z), (x1, y1, z), (x0, y1, z)]


def _ground(x0, x1, z0, z1):
    return [(x0, 0, z0), (x1, 0, z0), (x1, 0, z1), (x0, 0, z1)]


def _rect(half_w, y0, y1):
    return [(-half_w, y0), (half_w, y0), (half_w, y1), (-half_w, y1)]


def _sky(s: _Scene) -> None:
    rng = s.rng  # clear, overcast or dusk
    top, low = [((70, 120, 200), (170, 200, 230)), ((150, 155, 165), (215, 215, 220)),
                ((90, 90, 150), (240, 170, 110))][rng.integers(3)]
    t = np.linspace(0, 1, s.h, dtype=np.float32)[:, None] ** 0.7
    grad = (1 - t) * np.asarray(_jitter(rng, top), np.float32) + t * np.asarray(_jitter(rng, low))
    s.img[:] = grad.astype(np.uint8)[:, None, :]
    for _ in range(rng.integers(0, 6)):  # clouds stay class Sky
        c = (rng.uniform(0, s.w), rng.uniform(0, s.yh * 0.8))
        axes = (int(rng.uniform(0.05, 0.2) * s.w), int(rng.uniform(0.02, 0.06) * s.h))
        white = _jitter(rng, (235,) * 3, 10)
        cv2.ellipse(s.img, (int(c[0]), int(c[1])), axes, 0, 0, 360, white, -1)
    s.img[: int(s.yh) + 1] = cv2.blur(s.img[: int(s.yh) + 1], (9, 9))  # soft cloud edges


def _road(s: _Scene, xl: float, xr: float, pl: float, pr: float, zend: float) -> None:
    rng = s.rng
    ground_y = int(np.ceil(s.yh))
    s.img[ground_y:] = _jitter(rng, (150, 140, 135))
    s.mask[ground_y:] = PAVEMENT
    pave = _jitter(rng, rng.choice([(160, 150, 150), (150, 120, 130), (120, 120, 110)]), 12)
    s.fill3d([_ground(xl - pl - 60, xl, 0.3, zend), _ground(xr, xr + pr + 60, 0.3, zend)],
             PAVEMENT, pave)
    kerb = tuple(min(255, c + 35) for c in pave)
    s.fill3d([_ground(xl - 0.25, xl, 0.3, zend), _ground(xr, xr + 0.25, 0.3, zend)], PAVEMENT, kerb)
    s.fill3d([_ground(xl, xr, 0.3, zend)], ROAD, _jitter(rng, (95, 92, 98), 20))
    paint = (235, 235, 225) if rng.random() < 0.8 else (225, 190, 60)
    marks = [_ground(xl + 0.25, xl + 0.4, 0.3, zend), _ground(xr - 0.4, xr - 0.25, 0.3, zend)]
    lanes = max(1, int(round((xr - xl) / 3.3)))
    period, dash = rng.uniform(6, 10), rng.uniform(2, 4)
    for k in range(1, lanes):
        x = xl + k * (xr - xl) / lanes
        for z in np.arange(rng.uniform(1, period), min(zend, 150), period):
            marks.append(_ground(x - 0.07, x + 0.07, z, z + dash))
    if rng.random() < 0.3:  # zebra crossing
        z = rng.uniform(8, 25)
        marks += [_ground(x, x + 0.5, z, z + 3) for x in np.arange(xl + 0.5, xr - 0.5, 1.0)]
    s.fill3d(marks, ROAD, _jitter(rng, paint, 10))
    if rng.random() < 0.5:  # a building's shadow across the ground
        left = rng.random() < 0.5
        x0, x1 = (xl - pl - 1, rng.uniform(xl, xr)) if left else (rng.uniform(xl, xr), xr + pr + 1)
        z0, shade = rng.uniform(2, 20), np.zeros((s.h, s.w), np.uint8)
        q = np.round(s.proj(_ground(x0, x1, z0, z0 + rng.uniform(8, 60))) * _ONE).astype(np.int32)
        sel = cv2.fillPoly(shade, [q], 1, cv2.LINE_8, _SHIFT).astype(bool)
        s.img[sel] = (s.img[sel] * np.array([0.5, 0.52, 0.6])).astype(np.uint8)


_WALLS = [(150, 75, 55), (200, 180, 140), (120, 120, 125), (215, 210, 200), (110, 80, 60),
          (170, 160, 120), (95, 100, 110)]


def _facade(s: _Scene, x: float, z0: float, z1: float, height: float) -> None:
    rng = s.rng
    wall = _jitter(rng, _WALLS[rng.integers(len(_WALLS))], 15)
    s.fill3d([_quad_x(x, 0, height, z0, z1)], BUILDING, wall)
    s.fill3d([_quad_x(x, height - 0.4, height, z0, z1)], BUILDING,
             tuple(int(c * 0.7) for c in wall))
    glass = _jitter(rng, rng.choice([(40, 50, 60), (70, 90, 110), (150, 170, 185)]), 15)
    step, ww, floor = rng.uniform(2.2, 3.5), rng.uniform(0.9, 1.6), rng.uniform(2.8, 3.4)
    zs = np.arange(z0 + 0.6, z1 - ww - 0.3, step)
    ys = np.arange(rng.uniform(0.8, 1.2), height - 1.8, floor)
    wins = [_quad_x(x, y, y + 1.5, z, z + ww) for y in ys for z in zs]
    if wins:
        s.fill3d(wins, BUILDING, glass)


def _buildings(s: _Scene, x: float, zstart: float, zend: float) -> None:
    z = zstart
    while z < zend:
        length = s.rng.uniform(6, 25)
        if s.rng.random() > 0.15:
            _facade(s, x, z, min(z + length, zend), s.rng.uniform(5, 24))
        z += length


def _far_block(s: _Scene, zend: float) -> None:
    rng, x = s.rng, -60.0
    while x < 60:
        w = rng.uniform(6, 18)
        _wall = _jitter(rng, _WALLS[rng.integers(len(_WALLS))], 15)
        s.fill3d([_quad_z(x, x + w, 0, rng.uniform(6, 30), zend)], BUILDING, _wall)
        x += w


def _car(s: _Scene, x: float, z: float) -> None:
    rng = s.rng
    body = _jitter(rng, rng.choice([(200, 200, 205), (30, 30, 35), (150, 150, 155), (160, 30, 30),
                                   (40, 60, 140), (90, 90, 95), (220, 200, 60)]), 12)
    side_col = tuple(int(c * 0.75) for c in body)
    dark = _jitter(rng, (35, 40, 45), 8)
    w, length, top = rng.uniform(1.7, 1.9), rng.uniform(3.8, 4.6), rng.uniform(1.35, 1.6)
    sx = x - w / 2 if x > 0 else x + w / 2  # the side facing the camera axis is visible
    t = np.linspace(0, 2 * np.pi, 10, endpoint=False)
    wheels = [[(sx, 0.33 + 0.33 * np.sin(a), zc + 0.33 * np.cos(a)) for a in t]
              for zc in (z + 0.8, z + length - 0.8)]
    lamp = (200, 30, 30) if rng.random() < 0.7 else (240, 230, 190)
    lo, hi = x - w / 2, x + w / 2
    parts = [  # back to front: side, then the rear face
        (wheels, dark),
        ([_quad_x(sx, 0.3, 0.95, z, z + length), [(sx, 0.95, z + 0.9), (sx, top, z + 1.4),
                                                   (sx, top, z + 2.9), (sx, 0.95, z + 3.4)]],
         side_col),
        ([[(sx, 1.0, z + 1.1), (sx, top - 0.07, z + 1.5), (sx, top - 0.07, z + 2.8),
           (sx, 1.0, z + 3.2)]], dark),
        ([_quad_z(x - 0.75, x - 0.5, 0, 0.35, z), _quad_z(x + 0.5, x + 0.75, 0, 0.35, z)], dark),
        ([_quad_z(lo, hi, 0.3, 0.95, z),
          [(lo + 0.1, 0.95, z), (x - 0.6, top, z), (x + 0.6, top, z), (hi - 0.1, 0.95, z)]], body),
        ([[(lo + 0.2, 1.0, z), (x - 0.55, top - 0.07, z), (x + 0.55, top - 0.07, z),
           (hi - 0.2, 1.0, z)]], dark),
        ([_quad_z(lo + 0.05, lo + 0.35, 0.7, 0.85, z), _quad_z(hi - 0.35, hi - 0.05, 0.7, 0.85, z)],
         lamp),
        ([_quad_z(x - 0.25, x + 0.25, 0.45, 0.57, z)], (225, 225, 215)),
    ]
    for polys, color in parts:
        s.fill3d(polys, CAR, color)


def _pedestrian(s: _Scene, x: float, z: float) -> None:
    rng = s.rng
    to_px, sc = s.sprite(x, z)
    h, a = rng.uniform(1.55, 1.9), rng.uniform(-0.2, 0.2)
    skin = _jitter(rng, rng.choice([(230, 190, 160), (180, 130, 95), (110, 75, 55)]), 10)
    legs, top = _jitter(rng, (50, 50, 70), 40), _jitter(rng, rng.uniform(30, 220, 3), 30)
    hip = 0.5 * h
    for fx, hx in ((a, -0.08), (-a, 0.08)):
        s.fill([to_px([(hx - 0.07, hip), (hx + 0.07, hip), (fx + 0.06, 0), (fx - 0.06, 0)])],
               PEDESTRIAN, legs)
    s.fill([to_px([(-0.19, hip - 0.05), (0.19, hip - 0.05), (0.22, 0.82 * h), (-0.22, 0.82 * h)])],
           PEDESTRIAN, top)
    for side in (-1, 1):
        s.line(*to_px([(side * 0.2, 0.8 * h), (side * 0.27 + side * a * 0.5, 0.47 * h)]),
               0.08 * sc, PEDESTRIAN, top)
    s.disc(to_px([(0, 0.91 * h)])[0], 0.075 * h * sc, PEDESTRIAN, skin)
    s.disc(to_px([(0, 0.94 * h)])[0], 0.06 * h * sc, PEDESTRIAN, _jitter(rng, (40, 30, 20), 20))


def _cyclist(s: _Scene, x: float, z: float) -> None:
    rng = s.rng
    to_px, sc = s.sprite(x, z)
    d = 1 if rng.random() < 0.5 else -1
    frame = _jitter(rng, rng.choice([(30, 30, 30), (180, 30, 30), (30, 60, 160)]), 20)
    cloth = _jitter(rng, rng.uniform(30, 230, 3), 20)
    rear, front, crank = (-0.55 * d, 0.35), (0.55 * d, 0.35), (0.0, 0.33)
    seat, bar = (-0.2 * d, 0.95), (0.45 * d, 1.05)
    for c in (rear, front):
        s.disc(to_px([c])[0], 0.34 * sc, BICYCLIST, (25, 25, 25), 0.06 * sc)
    for p, q in ((rear, crank), (crank, seat), (seat, rear), (crank, bar), (bar, front),
                 (seat, bar)):
        s.line(*to_px([p, q]), 0.045 * sc, BICYCLIST, frame)
    hip, shoulder, knee = (seat[0], 1.0), (0.15 * d, 1.55), (0.15 * d, 0.75)
    trousers = _jitter(rng, (40, 40, 50), 20)
    for p, q, thick, col in ((hip, shoulder, 0.2, cloth), (shoulder, bar, 0.07, cloth),
                             (hip, knee, 0.11, trousers), (knee, (0.1 * d, 0.25), 0.09, trousers)):
        s.line(*to_px([p, q]), thick * sc, BICYCLIST, col)
    s.disc(to_px([(0.25 * d, 1.72)])[0], 0.12 * sc, BICYCLIST, _jitter(rng, (200, 160, 130), 30))


def _pole(s: _Scene, x: float, z: float) -> None:
    rng, toward = s.rng, -np.sign(x)  # a lamp arm reaches over the road
    grey = _jitter(rng, (110, 110, 105), 20)
    h = rng.uniform(3.5, 9)
    s.fill3d([_quad_z(x - 0.07, x + 0.07, 0, h, z)], POLE, grey)
    if h > 6 and rng.random() < 0.7:  # street lamp arm
        s.fill3d([_quad_z(min(x, x + toward * 1.6), max(x, x + toward * 1.6), h - 0.12, h, z)],
                 POLE, grey)
    kind = rng.integers(4) if rng.random() < 0.75 else -1
    to_px, sc = s.sprite(x, z)
    hy = rng.uniform(2.2, min(h, 3.2))
    if kind == 0:  # round sign
        c = to_px([(0, hy)])[0]
        s.disc(c, 0.35 * sc, SIGN, (200, 30, 30))
        s.disc(c, 0.26 * sc, SIGN, _jitter(rng, rng.choice([(235, 235, 235), (30, 70, 170)]), 10))
    elif kind == 1:  # triangle
        s.fill([to_px([(-0.4, hy), (0.4, hy), (0, hy + 0.7)])], SIGN, (200, 30, 30))
        s.fill([to_px([(-0.27, hy + 0.08), (0.27, hy + 0.08), (0, hy + 0.55)])], SIGN,
               (235, 235, 230))
    elif kind == 2:  # plate
        s.fill([to_px(_rect(0.5, hy, hy + 0.6))], SIGN,
               _jitter(rng, rng.choice([(30, 70, 170), (30, 120, 60), (230, 230, 230)]), 15))
    elif kind == 3:  # traffic light
        s.fill([to_px(_rect(0.18, hy, hy + 0.95))], SIGN, (30, 30, 30))
        for i, col in enumerate([(60, 200, 60), (230, 180, 30), (220, 40, 30)]):
            s.disc(to_px([(0, hy + 0.17 + 0.3 * i)])[0], 0.1 * sc, SIGN,
                   col if rng.random() < 0.4 else (70, 70, 60))


def _tree(s: _Scene, x: float, z: float) -> None:
    rng = s.rng
    to_px, sc = s.sprite(x, z)
    s.fill([to_px([(-0.15, 0), (0.15, 0), (0.1, 3), (-0.1, 3)])], TREE,
           _jitter(rng, (80, 60, 40), 15))
    leaf = np.asarray(_jitter(rng, (70, 110, 45), 25))
    cy = rng.uniform(3.5, 5.5)
    for _ in range(rng.integers(4, 9)):
        c = to_px([(rng.uniform(-1.3, 1.3), cy + rng.uniform(-1, 1.3))])[0]
        s.disc(c, rng.uniform(1.0, 2.2) * sc, TREE, _jitter(rng, leaf * rng.uniform(0.7, 1.2), 8))


def _fence(s: _Scene, x: float, z0: float) -> None:
    rng = s.rng
    z1 = z0 + rng.uniform(5, 25)
    col = _jitter(rng, rng.choice([(120, 90, 60), (140, 140, 145), (60, 100, 60)]), 15)
    h = rng.uniform(0.9, 1.6)
    rails = [_quad_x(x, y, y + 0.09, z0, z1) for y in (0.25 * h, 0.9 * h)]
    step = rng.uniform(0.25, 2.0)
    posts = [_quad_x(x, 0, h, z, z + min(0.1, step / 3)) for z in np.arange(z0, z1, step)]
    s.fill3d(rails + posts, FENCE, col)


def _bin(s: _Scene, x: float, z: float) -> None:
    """Street clutter that CamVid leaves unlabelled (void)."""
    w, h = s.rng.uniform(0.4, 0.8), s.rng.uniform(0.6, 1.1)
    s.fill3d([_quad_z(x - w / 2, x + w / 2, 0, h, z)], VOID, _jitter(s.rng, (60, 70, 60), 30))


def _objects(s: _Scene, xl: float, xr: float, pl: float, pr: float) -> None:
    rng = s.rng
    lanes = max(1, int(round((xr - xl) / 3.3)))

    def pavement(inner: float, outer: float) -> float:
        """A lateral position on a random pavement, `inner`..`outer` of its width out."""
        if rng.random() < 0.5:
            return xl - pl * rng.uniform(inner, outer)
        return xr + pr * rng.uniform(inner, outer)

    spec = (  # how many, depth range (m), drawer, lateral position
        (rng.integers(1, 6), (7, 45), _car,
         lambda: xl + (xr - xl) / lanes * (rng.integers(lanes) + 0.5) + rng.uniform(-0.3, 0.3)),
        (rng.integers(0, 4), (5, 35), _car, lambda: rng.choice([xl + 1.1, xr - 1.1])),  # parked
        (rng.integers(1, 5), (5, 35), _pedestrian, lambda: pavement(0.15, 0.85)),
        (rng.integers(0, 3) + (rng.random() < 0.6), (6, 30), _cyclist,
         lambda: rng.uniform(xl + 0.6, xr - 0.6)),
        (rng.integers(2, 7), (4, 60), _pole, lambda: rng.choice([xl - 0.45, xr + 0.45])),
        (rng.integers(1, 7), (6, 60), _tree, lambda: pavement(0.5, 0.9)),
        (rng.integers(0, 3), (5, 30), _bin, lambda: pavement(0.3, 0.9)),
        (int(rng.random() < 0.85), (3, 15), _fence,
         lambda: rng.choice([xl - 0.3, xl - pl + 0.2, xr + 0.3, xr + pr - 0.2])),
    )
    todo = [(rng.uniform(*depth), draw, where()) for n, depth, draw, where in spec
            for _ in range(n)]
    for z, draw, x in sorted(todo, key=lambda t: -t[0]):  # painter's order: far to near
        draw(s, x, z)


def _finish(s: _Scene) -> np.ndarray:
    """Soften edges, add grain and blotches, then a global exposure / colour cast / gamma."""
    rng, h, w = s.rng, s.h, s.w
    img = cv2.GaussianBlur(s.img, (3, 3), 0.6).astype(np.float32)
    small = rng.standard_normal((h // 24 + 2, w // 24 + 2, 3)).astype(np.float32)
    small = small * np.float32(0.025) + small[:, :, :1] * np.float32(0.07) + np.float32(1)
    img *= cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    img += (rng.standard_normal((h, w), dtype=np.float32) * _GRAIN[s.mask])[:, :, None]
    # Exposure, colour cast and gamma as one 8-bit lookup table per channel.
    gain = rng.uniform(0.6, 1.3) * rng.uniform(0.88, 1.12, 3)
    gamma = rng.uniform(0.8, 1.25)
    levels = (np.arange(256) / 255.0) ** gamma
    lut = np.clip(255.0 * levels[:, None] * gain[None, :], 0, 255).astype(np.uint8)
    return cv2.LUT(np.clip(img, 0, 255).astype(np.uint8), lut.reshape(256, 1, 3))


def render_scene(rng: np.random.Generator, size: tuple[int, int] = (360, 480)):
    """One scene: (RGB uint8 HxWx3, train-id mask HxW uint8 with 255 for void)."""
    h, w = size
    s = _Scene(rng, h, w)
    xl, xr = -rng.uniform(2.5, 8), rng.uniform(2.5, 8)
    pl, pr = rng.uniform(2, 5), rng.uniform(2, 5)
    far = rng.random() < 0.6
    zend = rng.uniform(60, 160) if far else 2000.0
    _sky(s)
    _road(s, xl, xr, pl, pr, zend)
    if far:
        _far_block(s, zend)
    for x in (xl - pl, xr + pr):
        if rng.random() < 0.85:
            _buildings(s, x, rng.uniform(0.5, 8), min(zend, 400))
        else:  # a park side: a row of trees instead of houses
            for z in np.arange(min(zend, 150), 4, -rng.uniform(4, 9)):
                _tree(s, x + np.sign(x) * rng.uniform(0, 3), z)
    _objects(s, xl, xr, pl, pr)
    return _finish(s), s.mask


def _write_png(path: Path, array: np.ndarray) -> None:
    try:
        path.write_bytes(cv2.imencode(".png", array)[1].tobytes())
    except OSError as e:
        raise DataError(f"{path}: cannot write ({e.strerror or e})") from e


def generate_synthetic(out: str | Path, count: int, size: tuple[int, int] = (360, 480),
                       seed: int = 0, val_fraction: float = 0.2,
                       progress: Callable[[int, int], None] | None = None,
                       label_errors: float = 0.0) -> Path:
    """Write `count` scenes in the CamVid layout (train/, trainannot/, val/, valannot/). With
    `label_errors`, that share of the val masks gets one planted mistake each
    (core.labeling.planted_errors), listed in LABEL_ERRORS_FILE: a set whose errors are known,
    to try the label-issue finder on."""
    if count < 1:
        raise ConfigError(f"synthetic dataset needs count >= 1, got {count}")
    if min(size) < 16:
        raise ConfigError(f"synthetic image size {size} is too small (min 16x16)")
    if not 0.0 <= val_fraction < 1.0:
        raise ConfigError(f"val_fraction must be in [0, 1), got {val_fraction}")
    if not 0.0 <= label_errors <= 1.0:
        raise ConfigError(f"label_errors is a share of the val images in [0, 1], got {label_errors}")
    out = Path(out)
    n_val = min(count - 1, max(1, round(count * val_fraction))) if val_fraction > 0 else 0
    if label_errors and not n_val:
        raise ConfigError("label errors are planted in the val split: give a val_fraction above 0")
    dirs = {split: (out / split, out / f"{split}annot") for split in ("train", "val")}
    try:
        for d in (*dirs["train"], *dirs["val"]):
            d.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DataError(f"{out}: cannot create the dataset folders ({e.strerror or e})") from e
    to_file = np.arange(256, dtype=np.uint8)
    to_file[VOID] = CAMVID11.void_value
    val_masks = {}
    for i in range(count):
        img, mask = render_scene(np.random.default_rng([seed, i]), tuple(size))
        split = "train" if i < count - n_val else "val"
        img_dir, ann_dir = dirs[split]
        name = f"synth_{i:05d}.png"
        _write_png(img_dir / name, cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        _write_png(ann_dir / name, to_file[mask])
        if label_errors and split == "val":
            val_masks[name] = mask
        if progress is not None:
            progress(i + 1, count)
    if label_errors:
        _plant_label_errors(out, dirs["val"][1], val_masks, label_errors, seed, to_file)
    return out


LABEL_ERRORS_FILE = "label-errors.json"


def _plant_label_errors(out: Path, ann_dir: Path, masks: dict, share: float, seed: int,
                        to_file: np.ndarray) -> None:
    """Overwrite the chosen masks with their corrupted copies and list what was done."""
    import json

    from core.labeling.planted_errors import plant

    names = list(CAMVID11.names)
    labels, kind_of = plant(masks, names, sorted(masks), share, seed)
    for name in kind_of:
        _write_png(ann_dir / name, to_file[labels[name]])
    listing = {"split": "val", "share": share, "seed": seed,
               "errors": [{"name": Path(n).stem, "kind": kind_of[n],
                           "pixels": int((labels[n] != masks[n]).sum())} for n in sorted(kind_of)]}
    try:
        (out / LABEL_ERRORS_FILE).write_text(json.dumps(listing, indent=1))
    except OSError as e:
        raise DataError(f"{out / LABEL_ERRORS_FILE}: cannot write ({e.strerror or e})") from e
