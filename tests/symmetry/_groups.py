"""Exact point groups of every family, built by closing generators (test helper).

Principal axis z. Generators follow the standard settings (Harris & Bertolucci):
C_n: C_n(z); C_nv: + sigma(xz); C_nh: + sigma_h; S_2n: S_2n(z); D_n: C_n(z) + C2(x);
D_nh: + sigma_h; D_nd: + sigma_d bisecting C2(x) and its neighbour; T: C2(z), C3(111);
T_d: + sigma(x=y); T_h: + i; O: C4(z), C3(111); O_h: + i; I: C5(0, 1, phi), C3(111);
I_h: + i.
"""

from __future__ import annotations

import numpy as np

PHI = (1.0 + 5.0**0.5) / 2.0


def rotation(axis, angle: float) -> np.ndarray:
    axis = np.asarray(axis, dtype=float)
    axis = axis / np.linalg.norm(axis)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k


def mirror(normal) -> np.ndarray:
    m = np.asarray(normal, dtype=float)
    m = m / np.linalg.norm(m)
    return np.eye(3) - 2 * np.outer(m, m)


def close(generators: list[np.ndarray]) -> np.ndarray:
    """All products of the generators, identity first, (G, 3, 3)."""
    elems = [np.eye(3)]
    frontier = [np.eye(3)]
    while frontier:
        new = []
        for a in frontier:
            for g in generators:
                c = g @ a
                if not any(np.abs(c - e).max() < 1e-8 for e in elems):
                    elems.append(c)
                    new.append(c)
        frontier = new
        assert len(elems) <= 240
    return np.stack(elems)


def generators(symbol: str) -> list[np.ndarray]:
    """Generators of the group named ``symbol`` (finite groups only)."""
    cz = lambda n: rotation([0, 0, 1], 2 * np.pi / n)
    sh = mirror([0, 0, 1])
    inv = -np.eye(3)
    fixed = {
        "C1": [],
        "Cs": [sh],
        "Ci": [inv],
        "T": [cz(2), rotation([1, 1, 1], 2 * np.pi / 3)],
        "O": [cz(4), rotation([1, 1, 1], 2 * np.pi / 3)],
        "I": [rotation([0, 1, PHI], 2 * np.pi / 5), rotation([1, 1, 1], 2 * np.pi / 3)],
    }
    fixed["Td"] = fixed["T"] + [mirror([1, -1, 0])]
    fixed["Th"] = fixed["T"] + [inv]
    fixed["Oh"] = fixed["O"] + [inv]
    fixed["Ih"] = fixed["I"] + [inv]
    if symbol in fixed:
        return fixed[symbol]
    if symbol.startswith("S"):
        m = int(symbol[1:])
        return [sh @ rotation([0, 0, 1], 2 * np.pi / m)]
    family, n = symbol[0], int("".join(c for c in symbol if c.isdigit()))
    suffix = symbol[1 + len(str(n)) :]
    gens = [cz(n)]
    if family == "D":
        gens.append(rotation([1, 0, 0], np.pi))
    if suffix == "v":
        gens.append(mirror([0, 1, 0]))
    elif suffix == "h":
        gens.append(sh)
    elif suffix == "d":
        phi = np.pi / (2 * n)  # sigma_d contains z and the bisector at azimuth phi
        gens.append(mirror([-np.sin(phi), np.cos(phi), 0]))
    return gens


ORDERS = {"T": 12, "Td": 24, "Th": 24, "O": 24, "Oh": 48, "I": 60, "Ih": 120}


def expected_order(symbol: str) -> int:
    if symbol in ORDERS:
        return ORDERS[symbol]
    if symbol == "C1":
        return 1
    if symbol in ("Cs", "Ci"):
        return 2
    if symbol.startswith("S"):
        return int(symbol[1:])
    n = int("".join(c for c in symbol if c.isdigit()))
    mult = {"C": 1, "D": 2}[symbol[0]] * (2 if symbol[-1] in "vhd" else 1)
    return n * mult


def all_finite_symbols(nmax: int = 8) -> list[str]:
    out = ["C1", "Cs", "Ci", "T", "Td", "Th", "O", "Oh", "I", "Ih"]
    for n in range(2, nmax + 1):
        out += [f"C{n}", f"C{n}v", f"C{n}h", f"D{n}", f"D{n}h", f"D{n}d", f"S{2 * n}"]
    return out
