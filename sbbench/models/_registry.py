"""Model registry: ``build(name, **hparams)`` and ``names()``.

A name is a base model optionally followed by modifiers, joined with ``+``:
``"egnn"``, ``"painn+noise"``, ``"egnn+noise+mlp"``. Each modifier may appear
once; whatever their order in the name, ``+noise`` perturbs the inputs of the
base model and ``+mlp`` is the outermost output head.

DimeNet++ is listed as ``dimenetpp`` (``dimenetpp+mlp`` reads better than
``dimenet+++mlp``); its first spelling ``dimenet++`` stays accepted everywhere,
because leaderboard rows, their commands and ``baselines/dimenet++/`` use it
(:data:`ALIASES`, :func:`registry_name`).
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from typing import Any

from sbbench.errors import InputError, NotFound

from ._base import VectorModel

__all__ = [
    "build",
    "defaults",
    "names",
    "model_class",
    "parse",
    "registry_name",
    "BASE_MODELS",
    "MODIFIERS",
    "MODIFIER_CLASSES",
    "ALIASES",
]


#: base name -> (module in sbbench.models, class); imported lazily (e3nn is slow to import)
BASE_MODELS: dict[str, tuple[str, str]] = {
    "schnet": ("schnet", "SchNetVector"),
    "dimenet++": ("dimenet", "DimeNetPPVector"),
    "egnn": ("egnn", "EGNN"),
    "painn": ("painn", "PaiNN"),
    "relaxed_e3nn": ("relaxed_e3nn", "RelaxedE3NN"),
    "sann": ("sann", "SANN"),
}


#: the name a base model is listed under -> its key in :data:`BASE_MODELS` (the spelling
#: of baselines/ and of the leaderboard rows); both are accepted
ALIASES: dict[str, str] = {"dimenetpp": "dimenet++"}
_LISTED = {key: listed for listed, key in ALIASES.items()}


def model_class(base: str) -> type[VectorModel]:
    """The class implementing base model ``base`` (a key of :data:`BASE_MODELS` or an alias)."""
    base = ALIASES.get(base, base)
    if base not in BASE_MODELS:
        raise _unknown("model", base, [_LISTED.get(b, b) for b in BASE_MODELS])
    module, cls = BASE_MODELS[base]
    return getattr(importlib.import_module(f"sbbench.models.{module}"), cls)


#: modifier -> hyperparameters it consumes
MODIFIERS: dict[str, tuple[str, ...]] = {"noise": ("noise_std",), "mlp": ("mlp_hidden",)}
#: modifier -> its class in :mod:`sbbench.models.modifiers`
MODIFIER_CLASSES: dict[str, str] = {"noise": "NoisyPositions", "mlp": "MLPHead"}


def names() -> list[str]:
    """All base model names followed by every base with one modifier.

    Modifiers also compose (``"egnn+noise+mlp"``); those combinations are
    accepted by :func:`build` but not listed.
    """
    bases = [_LISTED.get(b, b) for b in BASE_MODELS]
    out = list(bases)
    for mod in MODIFIERS:
        out += [f"{base}+{mod}" for base in bases]
    return out


def _unknown(kind: str, value: str, valid: list[str]) -> NotFound:
    close = difflib.get_close_matches(value, valid, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else "."
    if kind == "model":  # the bases, not every base x modifier
        listed = [_LISTED.get(b, b) for b in BASE_MODELS]
        mods = " and/or ".join(f"+{m}" for m in MODIFIERS)
        return NotFound(
            f"unknown model {value!r}{hint} Valid: {', '.join(listed)}, "
            f"each optionally with {mods} (sbbench ls)"
        )
    return NotFound(f"unknown {kind} {value!r}{hint} Valid: {', '.join(valid)}")


def parse(name: str) -> tuple[str, list[str]]:
    """``(base, modifiers)`` of a model name; ``base`` is a key of :data:`BASE_MODELS`.

    Case and spaces around ``+`` are ignored, and ``dimenet++`` and ``dimenetpp`` are the
    same base. Raises ValueError for an unknown base or modifier or a repeated modifier.
    """
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"model name must be a non-empty string, got {name!r}")
    key = name.strip().lower()
    for listed, legacy in ALIASES.items():  # "dimenet+++mlp" -> "dimenetpp+mlp"
        if key == legacy or key.startswith(legacy + "+"):
            key = listed + key[len(legacy) :]
    parts = [p.strip() for p in key.split("+")]
    base, mods = ALIASES.get(parts[0], parts[0]), parts[1:]
    if base not in BASE_MODELS:
        raise _unknown("model", parts[0], names())
    for mod in mods:
        if mod not in MODIFIERS:
            raise _unknown("modifier", mod, [f"+{m}" for m in MODIFIERS])
    if len(set(mods)) != len(mods):
        raise InputError(f"model name {name!r} repeats a modifier")
    return base, mods


def registry_name(name: str) -> str:
    """``name`` spelled with its :data:`BASE_MODELS` key (the spelling of baselines/ and
    the leaderboards): ``"dimenetpp+mlp"`` -> ``"dimenet+++mlp"``; other names unchanged
    but for case and spaces. Raises ValueError like :func:`parse`."""
    base, mods = parse(name)
    return "+".join([base, *mods])


def _params(cls: type) -> dict[str, Any]:
    """Constructor parameters of ``cls`` -> default (``inspect.Parameter.empty`` if none)."""
    return {
        p.name: p.default
        for p in inspect.signature(cls.__init__).parameters.values()
        if p.name not in ("self", "base") and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }


def defaults(name: str, **hparams: Any) -> dict[str, Any]:
    """Every hyperparameter of model ``name``: its constructor defaults, ``hparams`` applied.

    The keys are the constructor parameters of the base model and of each modifier in
    ``name`` (``noise_std`` for ``+noise``, ``mlp_hidden`` for ``+mlp``), so two spellings
    of one configuration (``{}`` and ``{"variant": "tensor"}`` for PaiNN) give one dict.
    Options whose default ``None`` means "the head's own default" are resolved where they
    apply: with ``variant="hessian"`` the Hessian head's options (``mode_rank``,
    ``normalize``, ...) get :class:`~sbbench.models.HessianHead`'s defaults; for other
    variants they stay ``None`` (not set). ``mlp_hidden=None`` stays ``None`` (the base's
    feature width). Keys the model does not take are kept (:func:`build` rejects them).

    >>> defaults("painn")["variant"], defaults("egnn", layers=3)["layers"]
    ('tensor', 3)
    """
    base, mods = parse(name)
    out = dict(_params(model_class(base)))
    if mods:
        from . import modifiers

        for mod in mods:
            out.update(_params(getattr(modifiers, MODIFIER_CLASSES[mod])))
    out.update(hparams)
    if out.get("variant") == "hessian":
        from ._hessian import HessianHead

        for key, value in _params(HessianHead).items():
            if key in out and out[key] is None:
                out[key] = value
    missing = sorted(k for k, v in out.items() if v is inspect.Parameter.empty)
    if missing:
        raise InputError(f"model {name!r} needs hyperparameter(s) {', '.join(missing)}")
    return out


def build(name: str, **hparams: Any) -> VectorModel:
    """Build a model from its registry name.

    Parameters
    ----------
    name
        ``base[+modifier...]``, see :func:`names`.
    **hparams
        Hyperparameters of the base model (common ones: ``hidden``,
        ``layers``, ``out_vectors``, ``cutoff``, ``num_atom_types``,
        ``node_attr_dim``) and of the modifiers (``noise_std`` for ``+noise``,
        ``mlp_hidden`` for ``+mlp``).

    Returns
    -------
    VectorModel
        ``model(batch) -> Tensor (N, 3 * out_vectors)``.

    Raises
    ------
    ValueError
        Unknown name, repeated modifier, or hyperparameter not accepted.
    """
    base, mods = parse(name)
    mod_hp = {m: {k: hparams.pop(k) for k in MODIFIERS[m] if k in hparams} for m in MODIFIERS}
    for m, hp in mod_hp.items():
        if hp and m not in mods:
            raise InputError(f"hyperparameter {next(iter(hp))!r} needs the '+{m}' modifier")
    accepted = [
        p
        for p in inspect.signature(model_class(base).__init__).parameters
        if p not in ("self", "args", "kwargs")
    ]
    unknown = sorted(set(hparams) - set(accepted))
    if unknown:
        raise InputError(
            f"model {base!r} does not accept hyperparameter(s) {', '.join(unknown)}; "
            f"accepted: {', '.join(accepted)}"
        )
    model = model_class(base)(**hparams)
    if "noise" in mods:
        from .modifiers import NoisyPositions

        model = NoisyPositions(model, **mod_hp["noise"])
    if "mlp" in mods:
        from .modifiers import MLPHead

        model = MLPHead(model, **mod_hp["mlp"])
    return model
