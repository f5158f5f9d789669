#!/usr/bin/python3
"""Writes the golden values the evaluation tests compare against.

Run with Debian's python3 (python3-sklearn, python3-numpy):
    /usr/bin/python3 tools/make_eval_fixtures.py
Output: tests/fixtures/eval/metrics_sklearn.json

Every value comes from scikit-learn or from a plain numpy computation written
here, never from the C++ code under test.
"""

import json
import os

import numpy as np
import sklearn
from sklearn.metrics import (accuracy_score, classification_report, confusion_matrix,
                             roc_auc_score, roc_curve)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "fixtures", "eval", "metrics_sklearn.json")
CLASSES = ["benign", "malignant", "normal"]


def scored_set(rng, n, class_weights, n_decimals):
    """Labels and softmax-like scores that lean towards the true class.

    Scores are rounded so that many ties occur (ROC and AUC tie handling)."""
    y = rng.choice(len(CLASSES), size=n, p=class_weights)
    logits = rng.normal(0.0, 1.0, size=(n, len(CLASSES)))
    logits[np.arange(n), y] += 1.2
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    return y, np.round(p, n_decimals)


def report_in_card_form(report):
    """sklearn's output_dict with 'f1-score' spelled as the model card does."""
    out = {}
    for key, value in report.items():
        if isinstance(value, dict):
            value = {("f1_score" if k == "f1-score" else k): v for k, v in value.items()}
        out[key] = value
    return out


def ece(confidence, correct, n_bins=15):
    """Expected calibration error with bins (b/B, (b+1)/B], the first holding 0."""
    bins = np.clip(np.ceil(confidence * n_bins).astype(int) - 1, 0, n_bins - 1)
    total = 0.0
    for b in range(n_bins):
        mask = bins == b
        if mask.any():
            total += mask.mean() * abs(correct[mask].mean() - confidence[mask].mean())
    return total


def multiclass_case(rng):
    y, p = scored_set(rng, 300, [0.5, 0.3, 0.2], 2)
    pred = p.argmax(axis=1)
    report = classification_report(y, pred, labels=[0, 1, 2], target_names=CLASSES,
                                   output_dict=True, zero_division=0)
    fpr, tpr, thr = roc_curve(y == 1, p[:, 1], drop_intermediate=True)
    return {
        "truth": y.tolist(),
        "probabilities": p.tolist(),
        "confusion_matrix": confusion_matrix(y, pred, labels=[0, 1, 2]).tolist(),
        "classification_report": report_in_card_form(report),
        "roc_auc": {name: roc_auc_score(y == k, p[:, k]) for k, name in enumerate(CLASSES)},
        "malignant_roc": {"fpr": fpr.tolist(), "tpr": tpr.tolist(),
                          "thresholds": thr[1:].tolist()},
        "ece": ece(p.max(axis=1), pred == y),
    }


def subset_case(rng):
    """A benign / malignant data set scored by a three-class model."""
    y, p = scored_set(rng, 200, [0.6, 0.4, 0.0], 3)
    pred = p.argmax(axis=1)
    kept = pred != 2
    set_aside = classification_report(y[kept], pred[kept], labels=[0, 1],
                                      target_names=CLASSES[:2], output_dict=True)
    strict = classification_report(y, pred, labels=[0, 1], target_names=CLASSES[:2],
                                   output_dict=True, zero_division=0)
    # With a label subset sklearn reports "micro avg" instead of "accuracy".
    strict.pop("micro avg", None)
    strict["accuracy"] = accuracy_score(y, pred)
    return {
        "truth": y.tolist(),
        "probabilities": p.tolist(),
        "n_set_aside": int((~kept).sum()),
        "classification_report": report_in_card_form(set_aside),
        "classification_report_strict": report_in_card_form(strict),
        "malignancy_auc": roc_auc_score(y == 1, p[:, 1]),
    }


def bootstrap_case(rng):
    """A large set: the interval width of an independent numpy bootstrap."""
    y, p = scored_set(rng, 2000, [0.45, 0.35, 0.2], 3)
    pred = p.argmax(axis=1)
    boot = np.random.default_rng(2024)
    accs, aucs = [], []
    for _ in range(1000):
        idx = boot.integers(0, len(y), len(y))
        accs.append(accuracy_score(y[idx], pred[idx]))
        aucs.append(roc_auc_score(y[idx] == 1, p[idx, 1]))
    lo_acc, hi_acc = np.percentile(accs, [2.5, 97.5])
    lo_auc, hi_auc = np.percentile(aucs, [2.5, 97.5])
    return {
        "truth": y.tolist(),
        "probabilities": p.tolist(),
        "accuracy": accuracy_score(y, pred),
        "malignancy_auc": roc_auc_score(y == 1, p[:, 1]),
        "numpy_accuracy_ci_width": hi_acc - lo_acc,
        "numpy_auc_ci_width": hi_auc - lo_auc,
    }


def main():
    rng = np.random.default_rng(20240601)
    fixture = {
        "generator": "tools/make_eval_fixtures.py, scikit-learn " + sklearn.__version__,
        "class_names": CLASSES,
        "multiclass": multiclass_case(rng),
        "subset": subset_case(rng),
        "bootstrap": bootstrap_case(rng),
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(fixture, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", os.path.normpath(OUT), os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
