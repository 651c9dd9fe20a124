"""Package list for setuptools (everything else is in pyproject.toml).

pyproject's ``packages.find`` cannot list a package whose folder is remapped
with ``package-dir``, so the shipped data folder ``datasets/`` (installed as
``sbbench._shipped``, see ``[tool.setuptools.package-dir]``) is added here to the
automatically found ``sbbench*`` packages. Without it wheels carry no shipped
data. The same holds for the configs in ``baselines/`` (installed as
``sbbench._baselines``), which ``sbbench run`` reads for its defaults
(tests/datasets/qm7x/test_shipped.py builds a wheel and checks both).
"""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["sbbench*"]), "sbbench._shipped", "sbbench._baselines"])
