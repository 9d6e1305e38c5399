"""The fitting loop: the torch model, length-bucketed batches, AdamW with warm-up and linear decay,
periodic selection on validation with early stopping, and prediction."""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import torch

from mergebert.core.candidates import CLASS_NAMES, N_CLASSES
from mergebert.core.patterns import mirrored
from mergebert.neural.bpe import BPE, PAD
from mergebert.neural.features import EDIT_TYPES, SIDES_SWAPPED
from training.config import TrainConfig, TrainingError
from training.dataset import Arrays
from training.distributed import Ranks, agree, total_units, wrap
from training.model import MergeBert, make_config, multi_hot_loss

Select = Callable[[], tuple[float, float]]  # () -> (selection score, unit accuracy) of the current model


def build_model(cfg: TrainConfig, bpe: BPE) -> MergeBert:
    """A fresh encoder of `cfg`'s shape, or one started from a RoBERTa checkpoint (--init-from)."""
    pad_id = bpe.token_id(PAD)
    if cfg.init_from:
        from transformers import RobertaModel

        encoder = RobertaModel.from_pretrained(cfg.init_from, add_pooling_layer=False)
        rc = encoder.config
        encoder.resize_token_embeddings(len(bpe))
        old = encoder.embeddings.token_type_embeddings
        if old.num_embeddings != len(EDIT_TYPES):
            new = torch.nn.Embedding(len(EDIT_TYPES), rc.hidden_size)
            with torch.no_grad():
                new.weight[:] = old.weight[0]
            encoder.embeddings.token_type_embeddings = new
            rc.type_vocab_size = len(EDIT_TYPES)
        max_len = rc.max_position_embeddings - rc.pad_token_id - 1
        if cfg.max_len > max_len:
            raise ValueError(f"--max-len {cfg.max_len} exceeds the checkpoint's {max_len} positions")
        rc.vocab_size = len(bpe)
        return MergeBert(rc, encoder)
    rc = make_config(
        len(bpe),
        pad_id,
        cfg.max_len,
        hidden=cfg.hidden,
        layers=cfg.layers,
        heads=cfg.heads,
        dropout=cfg.dropout,
    )
    return MergeBert(rc)


_MIRRORED_CLASSES = [CLASS_NAMES.index(mirrored(name)) for name in CLASS_NAMES]


def swap_sides(batch: tuple, chosen: torch.Tensor) -> tuple:
    """The batch with the ``chosen`` units' sides swapped: ours's sequences where theirs's were and each
    label moved to its mirrored pattern (A to B, A+B to B+A, ...; BASE and TOKEN stay)."""
    ids, tys, is_token, labels = batch
    per_sequence = chosen[:, None, None]
    return (
        torch.where(per_sequence, ids[:, SIDES_SWAPPED], ids),
        torch.where(per_sequence, tys[:, SIDES_SWAPPED], tys),
        is_token,
        torch.where(chosen[:, None], labels[:, _MIRRORED_CLASSES], labels),
    )


def finite_weights(model: torch.nn.Module) -> bool:
    """Whether every weight of `model` is a number (not NaN or infinite)."""
    return bool(torch.stack([torch.isfinite(p).all() for p in model.parameters()]).all())


def diverged(step: int, loss: float, lr: float) -> TrainingError:
    """The error of a run whose loss or weights stopped being numbers at `step`."""
    return TrainingError(
        f"training diverged at step {step} (loss {loss:.4g}): the weights are no longer numbers, so no model "
        f"is written; train again with a lower --lr than {lr:g}"
    )


def _device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def _batch(arrays: Arrays, idx: np.ndarray, device: torch.device | None = None):
    if device is not None and device.type != "cpu":
        return tuple(t.to(device) for t in _batch(arrays, idx))
    width = int(arrays["lengths"][idx].max())
    return (
        torch.from_numpy(arrays["input_ids"][idx, :, :width].astype(np.int64)),
        torch.from_numpy(arrays["type_ids"][idx, :, :width].astype(np.int64)),
        torch.from_numpy(arrays["is_token"][idx].astype(np.float32)),
        torch.from_numpy(arrays["labels"][idx].astype(np.float32)),
    )


def _epochs(
    arrays: Arrays, idx: np.ndarray, batch_size: int, rng: np.random.Generator
) -> Iterator[tuple[int, np.ndarray]]:
    """(epoch, batch) for ever, each epoch's batches drawn afresh (nothing when there are no rows)."""
    for epoch in itertools.count():
        batches = _length_batches(arrays, idx, batch_size, rng)
        if not batches:
            return
        for batch in batches:
            yield epoch, batch


def _length_batches(arrays: Arrays, idx: np.ndarray, batch_size: int, rng: np.random.Generator | None):
    """Batches of similar length: shuffle, sort within pools of 50 batches, shuffle the batches."""
    idx = idx.copy()
    if rng is not None:
        rng.shuffle(idx)
    pool = batch_size * 50
    batches = []
    for s in range(0, len(idx), pool):
        chunk = idx[s : s + pool]
        chunk = chunk[np.argsort(arrays["lengths"][chunk], kind="stable")]
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    if rng is not None:
        order = rng.permutation(len(batches))
        batches = [batches[i] for i in order]
    return batches


@torch.no_grad()
def predict(model: MergeBert, arrays: Arrays, idx: np.ndarray, batch_size: int = 128) -> np.ndarray:
    """(len(idx), N_CLASSES) class probabilities of the rows `idx`."""
    model.eval()
    out = np.zeros((len(idx), N_CLASSES), dtype=np.float32)
    order = np.argsort(arrays["lengths"][idx], kind="stable")
    for s in range(0, len(order), batch_size):
        pos = order[s : s + batch_size]
        ids, tys, it, _ = _batch(arrays, idx[pos], _device(model))
        out[pos] = torch.softmax(model(ids, tys, it), dim=-1).float().cpu().numpy()
    return out


@dataclass
class FitResult:
    steps: int
    best_step: int
    best_score: float
    minutes: float
    units: int  # training units, over all ranks under torchrun
    history: list[dict] = field(default_factory=list)


def _optimizer(model: MergeBert, cfg: TrainConfig) -> torch.optim.Optimizer:
    """AdamW, without weight decay on embeddings, biases and norms."""
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "embeddings" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and "embeddings" not in n)]
    return torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=cfg.lr,
    )


def fit(
    model: MergeBert,
    arrays: Arrays,
    train_idx: np.ndarray,
    weights: np.ndarray,
    cfg: TrainConfig,
    select: Select | None,
    rng: np.random.Generator,
    log: Callable[[str], None],
    ranks: Ranks | None = None,
) -> FitResult:
    """Train until the epochs or the time budget run out or selection stops improving; the model ends with
    the weights that scored best.

    Under torchrun each rank trains on its shard (`train_idx`) through DistributedDataParallel, an epoch
    being one pass over all ranks' units; rank 0 alone selects (`select` is None on the others), and every
    step the ranks agree on the progress and on rank 0's early stop.
    """
    device = _device(model)
    opt = _optimizer(model, cfg)
    net = model if ranks is None else wrap(model, ranks)
    world = 1 if ranks is None else ranks.world
    units = total_units(ranks, len(train_idx))
    steps_per_epoch = math.ceil(units / (cfg.batch_size * world))
    total_steps = max(1, int(steps_per_epoch * cfg.epochs))
    budget = cfg.max_minutes * 60 if cfg.max_minutes > 0 else None
    log(
        f"plan: {total_steps} steps ({steps_per_epoch}/epoch, batch {cfg.batch_size})"
        + (f", time budget {cfg.max_minutes:g} min" if budget else "")
    )

    best = {"accuracy": -1.0, "step": 0, "state": None}
    history: list[dict] = []
    step = 0
    bad_evals = 0
    ema = None
    t_train = time.time()
    seen = 0
    stop = False
    broken: float | None = None  # the loss of the step after which the weights were no longer numbers
    lv = math.nan  # the last step's loss

    def validate() -> tuple[float, float]:
        assert select is not None
        score, unit_acc = select()
        history.append(
            {
                "step": step,
                "loss": ema,
                "valid_accuracy": score,
                "valid_unit_accuracy": unit_acc,
                "minutes": (time.time() - t_train) / 60,
            }
        )
        return score, unit_acc

    for epoch, batch_idx in _epochs(arrays, train_idx, cfg.batch_size, rng):
        elapsed = time.time() - t_train
        progress = step / total_steps
        if budget:
            progress = max(progress, elapsed / budget)
        if ranks is not None:
            progress, stop = agree(ranks, progress, stop)
        if stop or progress >= 1.0:
            break
        lr = cfg.lr * min(1.0, (step + 1) / cfg.warmup_steps) * max(0.0, 1.0 - progress)
        for g in opt.param_groups:
            g["lr"] = lr
        net.train()
        ids, tys, it, labels = _batch(arrays, batch_idx, device)
        if cfg.swap_sides > 0:
            chosen = torch.from_numpy(rng.random(len(batch_idx)) < cfg.swap_sides).to(device)
            ids, tys, it, labels = swap_sides((ids, tys, it, labels), chosen)
        w = torch.from_numpy(weights[batch_idx]).to(device)
        loss = multi_hot_loss(net(ids, tys, it), labels, w)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        seen += len(batch_idx) * world
        lv = loss.item()
        # weights that stop being numbers make the next loss NaN; they are checked themselves (the same on
        # every rank) before they can be selected, and at the end
        if not math.isfinite(lv) or (step % cfg.eval_every == 0 and not finite_weights(model)):
            broken, stop = lv, True
            continue
        ema = lv if ema is None else 0.98 * ema + 0.02 * lv
        if step % 50 == 0:
            rate = seen / (time.time() - t_train)
            left = (1 - progress) * (
                budget
                if budget and progress == elapsed / budget
                else (time.time() - t_train) / max(progress, 1e-9)
            )
            log(
                f"epoch {epoch + 1} step {step}/{total_steps} [{'#' * int(20 * progress):<20}] "
                f"loss {ema:.4f} lr {lr:.2e} {rate:.0f} units/s, ~{left / 60:.0f} min left"
            )
        if step % cfg.eval_every == 0 and select is not None:
            score, unit_acc = validate()
            improved = score > best["accuracy"]
            if improved:
                best = {
                    "accuracy": score,
                    "step": step,
                    "state": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
                }
                bad_evals = 0
            else:
                bad_evals += 1
            log(
                f"valid step {step}: conflict top-1 accuracy {score:.4f} (best {best['accuracy']:.4f} "
                f"at {best['step']}){' *' if improved else ''}, unit accuracy {unit_acc:.4f}"
            )
            if bad_evals >= cfg.patience:
                log("early stop: no improvement")
                stop = True
    if broken is None and not finite_weights(model):  # the steps since the last check
        broken = lv
    if broken is not None:
        raise diverged(step, broken, cfg.lr)
    minutes = (time.time() - t_train) / 60
    if select is None:  # a rank other than 0: its weights are not kept
        return FitResult(step, step, float("nan"), minutes, units)
    score, _ = validate()  # final selection check
    if score > best["accuracy"] or best["state"] is None:
        best = {"accuracy": score, "step": step, "state": model.state_dict()}
    model.load_state_dict(best["state"])
    return FitResult(step, best["step"], best["accuracy"], minutes, units, history)
