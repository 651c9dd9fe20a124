"""Train and evaluate a model on a dataset with k-fold cross-validation.

Defaults come from baselines/ (the papers' settings, see baselines/README.md):
baselines/datasets/<dataset>.yaml, then baselines/<model>/defaults.yaml, then
baselines/<model>/<dataset>.yaml if it exists; --config FILE and then the flags
override them. Results, the resolved config, a log, checkpoints and plots are
written to --out (default runs/<dataset>/<model>/<timestamp>).

Examples:
  sbbench run --model relaxed_e3nn --dataset qm7x
  sbbench run --model egnn+mlp --dataset square --loss cd --folds 10
  sbbench run --model painn --dataset h2o_modes:asym --quick
  sbbench run --model sann --dataset qm7x --seeds 0,1,2 --out runs/sann-qm7x
  sbbench run --model egnn --dataset qm7x --split random   # the SANN paper's splits

Scores: test SBMSE (the ranking key: min over g in Sym(x) of the per-atom error
against g·y), CD/SBCD (symmetric, mean) and the number of collapsed predictions.
"""

from __future__ import annotations

import argparse

from sbbench.cli import CLIError

HELP = "train and evaluate a model with k-fold cross-validation (writes results.json)"


def _seeds(text: str) -> list[int]:
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"seeds must be comma-separated integers: {text!r}"
        ) from None
    if not seeds:  # '--seeds ,' must not silently mean the default seeds
        raise argparse.ArgumentTypeError(f"no seed in {text!r}; e.g. --seeds 0,1,2")
    dup = sorted({s for s in seeds if seeds.count(s) > 1})
    if dup:
        raise argparse.ArgumentTypeError(f"seed(s) {dup} given twice in {text!r}")
    return seeds


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model", required=True, help="model name, e.g. egnn, painn+mlp (sbbench ls)"
    )
    parser.add_argument(
        "--dataset", required=True, help="dataset[:task], e.g. qm7x, h2o_modes:asym"
    )
    parser.add_argument("--folds", type=int, help="number of cross-validation folds")
    parser.add_argument("--epochs", type=int, help="training epochs per fold")
    parser.add_argument("--seed", type=int, help="a single seed (same as --seeds N)")
    parser.add_argument("--seeds", type=_seeds, help="comma-separated seeds, e.g. 0,1,2")
    parser.add_argument(
        "--loss",
        choices=["sbmse", "sbcd", "cd", "mse"],
        help="training loss (default sbmse, or the baseline's)",
    )
    parser.add_argument(
        "--split",
        choices=["random", "grouped", "same"],
        help="split protocol (default: the dataset's; grouped by molecule for qm7x)",
    )
    parser.add_argument("--lr", type=float, help="(max) learning rate")
    parser.add_argument("--batch-size", type=int, help="molecules per batch")
    parser.add_argument("--device", choices=["cpu", "cuda"], help="training device")
    parser.add_argument(
        "--threads", type=_positive_int, help="CPU threads (default: OMP_NUM_THREADS, max 2)"
    )
    parser.add_argument("--out", help="output folder (default runs/<dataset>/<model>/<time>)")
    parser.add_argument("--config", help="YAML file with config keys (overrides the baseline)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 epochs, 2 folds")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary table")


def run(args: argparse.Namespace) -> int:
    import math

    from sbbench.models._registry import registry_name
    from sbbench.training import check_run, resolve_config, run_experiment

    seeds = args.seeds if args.seeds else ([args.seed] if args.seed is not None else None)
    given = {
        "folds": args.folds,
        "epochs": args.epochs,
        "seeds": seeds,
        "loss": args.loss,
        "lr": args.lr,
        "batch_size": args.batch_size,
        "device": args.device,
        "threads": args.threads,
        "split": args.split,
    }
    overrides = {k: v for k, v in given.items() if v is not None}  # flags the user gave
    # 'dimenetpp+mlp' is run (and recorded) as 'dimenet+++mlp', the spelling of baselines/
    # and of the leaderboard rows; an unknown name fails here, before anything is built
    model = registry_name(args.model)
    cfg = resolve_config(
        model, args.dataset, config_file=args.config, overrides=overrides, quick=args.quick
    )
    if cfg.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise CLIError("--device cuda requested but torch sees no CUDA device")
    check_run(cfg)  # bad model/dataset/task/options: one line, before any work or file
    if not args.quiet:
        _curie_summary(cfg)
    outcome = run_experiment(cfg, args.out, quiet=args.quiet)
    res = outcome.results
    if not args.quiet:
        print(
            f"\n{cfg.model} on {cfg.dataset}{':' + cfg.task if cfg.task else ''} "
            f"({res['symmetry_class']}, {res['n_params']} parameters, loss {cfg.loss})"
        )
        print(f"split: {res['split']['protocol']}")
        cols = ("val SBMSE", "test SBMSE", "test CD", "test SBCD", "collapsed", "equiv.err")
        print(f"{'seed':>4} {'fold':>4} " + " ".join(f"{c:>10}" for c in cols))
        for f in res["folds"]:
            eq = f["equivariance_error"]
            eq_s = "n/a" if eq is None else f"{eq:.1e}"
            n = len(f["predictions"])
            t = f["test"]
            print(
                f"{f['seed']:>4} {f['fold']:>4} {f['val']['sbmse']:>10.4g} {t['sbmse']:>10.4g} "
                f"{t['cd']:>10.4g} {t['sbcd']:>10.4g} {t['collapsed']:>5}/{n:<4} {eq_s:>10}"
            )
        s = res["summary"]
        for key, label in (
            ("test_sbmse", "test SBMSE"),
            ("test_cd", "test CD"),
            ("test_sbcd", "test SBCD"),
        ):
            std = s[key]["std"]
            print(f"{label:>10}: {s[key]['mean']:.5g} ± {0.0 if math.isnan(std) else std:.2g}")
    print(f"results: {outcome.out_dir / 'results.json'}")
    if not args.quiet:
        print(
            "next: sbbench submit "
            + str(outcome.out_dir / "results.json")
            + "   (adds a row to leaderboards/"
            + cfg.dataset
            + ".csv; in a checkout it also regenerates README.md's block and docs/)"
        )
    if outcome.interrupted:
        print("interrupted: the finished folds above were kept")
        return 130
    return 0


def _curie_summary(cfg) -> None:
    """Print the Curie check (does the target break the input symmetry?)."""
    from sbbench.curie import summary_line

    print(summary_line(cfg.dataset, cfg.task, cfg.dataset_options))
