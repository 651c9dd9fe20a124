"""Enumerate the molecules of the QM7-X-style reference set v2 (``molecules_v2.csv``).

QM7-X takes its molecules from GDB13 (Blum & Reymond, JACS 131, 8732 (2009)):
every molecule with up to 7 heavy atoms among C, N, O, S, Cl that GDB13's
stability and synthetic-feasibility rules allow. GDB13 itself cannot be
downloaded here, so this script *enumerates* the small end of that chemical
space itself, with RDKit, under rules modelled on GDB13's (stated below; this
is not GDB13 and not a subset of it by construction):

1. 1 to 5 heavy atoms from C, N, O, S, Cl, neutral, closed shell, standard
   valences only (C 4, N 3, O 2, S 2, Cl 1), bond orders 1-3; hydrogens fill
   the free valences.
2. No heteroatom-heteroatom bond (peroxides, hydrazines, hydroxylamines,
   disulfides, sulfenyl halides, Cl2 ...) except inside an aromatic
   five-membered ring (GDB13 keeps e.g. pyrazole and isoxazole); such a ring
   has at least two carbons and at most one O or S.
3. Strain and cumulation: no cumulated multiple bonds on one atom (allenes,
   ketenes, carbodiimides, CO2-like C), no triple bond in a ring, no multiple
   bond on a fused-ring atom, no sp2 atom in (or exocyclic to) a
   three-membered ring, aromaticity only in five-membered rings and no
   exocyclic double bond on an aromatic ring, at most two rings (SSSR), ring
   sizes 3-5.
4. Unstable or reactive groups: enols, imidic acids and their S analogues
   (OH/SH on a carbon double-bonded to C or N) and enamines (NH/N on a C=C
   carbon); sp3 carbons with two or more single-bonded N/O/S (acetals,
   aminals, hemiacetals, gem-diols); carbonic/carbamic-type acids (C=X
   carbon carrying OH and another heteroatom); thiocarbonyls C=S; a carbon
   carrying Cl and any N/O/S (acyl and imidoyl chlorides, alpha-chloro
   ethers and amines); N, O, S or Cl on an alkyne carbon (ynamines, ynols,
   haloalkynes).
5. Molecules whose RDKit sanitisation, ETKDG embedding or MMFF94 typing
   fails are dropped later, by the generator, and reported there.

The output lists canonical SMILES (RDKit), heavy-atom count and formula,
sorted by (heavy atoms, SMILES). Run::

    python datasets/qm7x/enumerate_molecules.py  # writes molecules_v2.csv
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "molecules_v2.csv"

ELEMENTS = ("C", "N", "O", "S", "Cl")
VALENCE = {"C": 4, "N": 3, "O": 2, "S": 2, "Cl": 1}
HETERO = {"N", "O", "S", "Cl"}


def _rdkit():
    try:
        from rdkit import Chem, RDLogger
    except ImportError as exc:  # pragma: no cover - environment
        raise ImportError("enumeration needs RDKit: pip install sbbench[reference]") from exc
    RDLogger.DisableLog("rdApp.*")
    return Chem


def _graphs(max_heavy: int):
    """All connected heavy-atom graphs up to ``max_heavy`` atoms, as canonical SMILES.

    Grown atom by atom (a new atom bonded to an existing one) and bond by bond
    (ring closures between existing atoms), de-duplicated by canonical SMILES
    after every step, with the valence table :data:`VALENCE` enforced.
    """
    Chem = _rdkit()

    def free(mol, idx):
        a = mol.GetAtomWithIdx(idx)
        used = sum(b.GetBondTypeAsDouble() for b in a.GetBonds())
        return VALENCE[a.GetSymbol()] - int(used)

    def canon(rw):
        m = rw.GetMol()
        for a in m.GetAtoms():
            a.SetNoImplicit(False)
        try:
            Chem.SanitizeMol(m)
        except Exception:
            return None
        for a in m.GetAtoms():  # only standard valences (rule 1)
            if a.GetTotalValence() != VALENCE[a.GetSymbol()] or a.GetFormalCharge():
                return None
        return Chem.MolToSmiles(m)

    bond_types = {1: Chem.BondType.SINGLE, 2: Chem.BondType.DOUBLE, 3: Chem.BondType.TRIPLE}
    level = set()
    for el in ELEMENTS:
        rw = Chem.RWMol()
        rw.AddAtom(Chem.Atom(el))
        s = canon(rw)
        if s:
            level.add(s)
    seen = set(level)
    frontier = set(level)
    while frontier:
        new = set()
        for smi in frontier:
            base = Chem.MolFromSmiles(smi)
            Chem.Kekulize(base, clearAromaticFlags=True)
            n = base.GetNumAtoms()
            heavy = Chem.RWMol(base)
            # 1) add an atom
            if n < max_heavy:
                for i in range(n):
                    fi = free(heavy, i)
                    for el in ELEMENTS:
                        for order in range(1, min(fi, VALENCE[el], 3) + 1):
                            rw = Chem.RWMol(heavy)
                            j = rw.AddAtom(Chem.Atom(el))
                            rw.AddBond(i, j, bond_types[order])
                            s = canon(rw)
                            if s and s not in seen:
                                new.add(s)
            # 2) raise a bond order or close a ring
            for i in range(n):
                for j in range(i + 1, n):
                    f = min(free(heavy, i), free(heavy, j))
                    if f < 1:
                        continue
                    bond = heavy.GetBondBetweenAtoms(i, j)
                    rw = Chem.RWMol(heavy)
                    if bond is None:
                        rw.AddBond(i, j, Chem.BondType.SINGLE)
                    elif bond.GetBondTypeAsDouble() < 3:
                        order = int(bond.GetBondTypeAsDouble()) + 1
                        rw.GetBondBetweenAtoms(i, j).SetBondType(bond_types[order])
                    else:
                        continue
                    s = canon(rw)
                    if s and s not in seen:
                        new.add(s)
        seen |= new
        frontier = new
    return seen


def passes_rules(smiles: str) -> bool:
    """Rules 2-4 of the module docstring."""
    Chem = _rdkit()
    m = Chem.MolFromSmiles(smiles)
    if m is None:
        return False
    ri = m.GetRingInfo()
    rings = [set(r) for r in ri.AtomRings()]
    if len(rings) > 2 or any(len(r) not in (3, 4, 5) for r in rings):
        return False
    small = set().union(*[r for r in rings if len(r) == 3]) if rings else set()
    fused = {a for r1 in rings for r2 in rings if r1 is not r2 for a in r1 & r2}
    for b in m.GetBonds():
        a1, a2 = b.GetBeginAtom(), b.GetEndAtom()
        if a1.GetSymbol() in HETERO and a2.GetSymbol() in HETERO and not b.GetIsAromatic():
            return False  # rule 2
        if b.GetBondType() == Chem.BondType.TRIPLE and b.IsInRing():
            return False  # rule 3
    for a in m.GetAtoms():
        if a.GetIsAromatic() and not ri.IsAtomInRingOfSize(a.GetIdx(), 5):
            return False  # rule 3: aromatic only in five-membered rings
    for r in rings:
        atoms = [m.GetAtomWithIdx(i) for i in r]
        if any(a.GetIsAromatic() for a in atoms) and (
            sum(a.GetSymbol() == "C" for a in atoms) < 2
            or sum(a.GetSymbol() in {"O", "S"} for a in atoms) > 1
        ):
            return False  # rule 2: an azole has >= 2 C and at most one O or S
    mk = Chem.Mol(m)
    Chem.Kekulize(mk, clearAromaticFlags=False)
    for a in mk.GetAtoms():
        bonds = list(a.GetBonds())
        multi = [b for b in bonds if b.GetBondTypeAsDouble() > 1]
        nbrs = [b.GetOtherAtom(a) for b in bonds]
        sym = a.GetSymbol()
        if len(multi) > 1 or (multi and multi[0].GetBondTypeAsDouble() == 3 and a.GetDegree() > 2):
            return False  # rule 3: cumulated multiple bonds
        if multi and (a.GetIdx() in fused or a.GetIdx() in small):
            return False  # rule 3: bridgehead / three-ring sp2 atom
        if multi and a.GetIsAromatic() and not multi[0].IsInRing():
            return False  # rule 3: exocyclic double bond on an aromatic ring
        if sym != "C":
            continue
        single_het = [
            n
            for b, n in zip(bonds, nbrs, strict=True)
            if b.GetBondTypeAsDouble() == 1
            and n.GetSymbol() in {"N", "O", "S"}
            and not b.GetIsAromatic()
        ]
        hydroxy = [n for n in single_het if n.GetSymbol() in {"O", "S"} and n.GetTotalNumHs() > 0]
        if not multi and len(single_het) >= 2:
            return False  # rule 4: acetal-like
        if multi and not a.GetIsAromatic():
            partner = multi[0].GetOtherAtom(a)
            order = multi[0].GetBondTypeAsDouble()
            if partner.GetSymbol() == "S":
                return False  # rule 4: thiocarbonyl
            if order == 2 and partner.GetSymbol() in {"C", "N"} and hydroxy:
                return False  # rule 4: enol / imidic acid
            if (
                order == 2
                and partner.GetSymbol() == "C"
                and any(n.GetSymbol() == "N" for n in single_het)
            ):
                return False  # rule 4: enamine
            if hydroxy and len(single_het) >= 2:
                return False  # rule 4: carbonic / carbamic acid
            if (
                order == 3
                and partner.GetSymbol() == "C"
                and any(n.GetSymbol() in HETERO for n in nbrs if n.GetIdx() != partner.GetIdx())
            ):
                return False  # rule 4: ynamine, ynol, haloalkyne
        if any(n.GetSymbol() == "Cl" for n in nbrs) and any(
            n.GetSymbol() in {"N", "O", "S"} for n in nbrs
        ):
            return False  # rule 4: acyl / imidoyl chloride, alpha-chloro ether
    return True


def enumerate_molecules(max_heavy: int = 5) -> list[dict[str, str]]:
    """Rows (smiles, n_heavy, formula) of every molecule that passes the rules."""
    Chem = _rdkit()
    from rdkit.Chem.rdMolDescriptors import CalcMolFormula

    rows = []
    for smi in _graphs(max_heavy):
        if not passes_rules(smi):
            continue
        m = Chem.MolFromSmiles(smi)
        rows.append({"smiles": smi, "n_heavy": str(m.GetNumAtoms()), "formula": CalcMolFormula(m)})
    rows.sort(key=lambda r: (int(r["n_heavy"]), r["smiles"]))
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--max-heavy", type=int, default=5)
    p.add_argument("--out", default=str(DEFAULT_OUT))
    args = p.parse_args(argv)
    rows = enumerate_molecules(args.max_heavy)
    buf = io.StringIO()
    buf.write("# molecules of the sbbench QM7-X-style reference set v2; made by\n")
    buf.write("# datasets/qm7x/enumerate_molecules.py (GDB13-like rules, see its docstring)\n")
    w = csv.DictWriter(buf, fieldnames=["smiles", "n_heavy", "formula"], lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    out = Path(args.out)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.")
    os.chmod(tmp, 0o644)
    with os.fdopen(fd, "w") as fh:
        fh.write(buf.getvalue())
    os.replace(tmp, out)
    n_sx = sum(1 for r in rows if "S" in r["formula"].replace("Cl", "") or "Cl" in r["formula"])
    print(f"wrote {out}: {len(rows)} molecules ({n_sx} with S or Cl)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
