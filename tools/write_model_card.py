#!/usr/bin/python3
"""Writes a model directory's README.md (its model card) from what bcd measured.

Every number on the card is read from files that `bcd train`, `bcd evaluate` and
`bcd audit` wrote; nothing is typed in by hand. Standard library only.

Usage: tools/write_model_card.py MODEL_DIR REPORTS_DIR "TRAIN COMMAND"
  REPORTS_DIR holds eval_test.json, eval_bus_uc.json, audit_busi.json, audit_split.json
  and train_seconds.txt (written by tools/make_demo_model.sh).
"""
import json
import os
import sys


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def pct(x):
    return "undefined" if x is None else f"{100 * x:.1f}%"


def num(x, digits=3):
    return "undefined" if x is None else f"{x:.{digits}f}"


def ci(b):
    return f"{pct(b['estimate'])} (95% CI {pct(b['low'])} to {pct(b['high'])})"


def ci_num(b):
    return f"{num(b['estimate'])} (95% CI {num(b['low'])} to {num(b['high'])})"


def report_table(report, classes):
    rows = ["| class | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for c in classes + ["macro avg", "weighted avg"]:
        r = report[c]
        rows.append(f"| {c} | {num(r['precision'])} | {num(r['recall'])} | "
                    f"{num(r['f1_score'])} | {r['support']} |")
    rows.append(f"| accuracy | | | {num(report['accuracy'])} | |")
    return "\n".join(rows)


def confusion_table(cm):
    labels = cm["labels"]
    rows = ["| true \\ predicted | " + " | ".join(labels) + " |",
            "|---" * (len(labels) + 1) + "|"]
    for name, row in zip(cm.get("row_labels", labels), cm["matrix"]):
        rows.append(f"| {name} | " + " | ".join(str(v) for v in row) + " |")
    return "\n".join(rows)


def evaluation_section(title, ev):
    m = ev["malignancy"]["argmax"]
    boot = ev["bootstrap"]
    lines = [f"### {title}", "",
             f"{ev['n_evaluated']} images evaluated, {ev['n_failed']} unreadable. Always "
             f"answering the most common class would score {pct(majority_share(ev))}.", ""]
    if ev["set_aside"]["count"]:
        lines += [f"{ev['set_aside']['count']} predictions of a class this data set lacks "
                  f"were set aside, as the published card did "
                  f"({', '.join(f'{n} {c}' for c, n in ev['set_aside']['by_predicted_class'].items())}"
                  f"); the strict accuracy, counting "
                  f"them as wrong, is {ci(boot['accuracy_strict'])}.", ""]
    lines += [report_table(ev["classification_report"], ev["dataset_classes"]), "",
              confusion_table(ev["confusion_matrix"]), "",
              f"- accuracy: {ci(boot['accuracy'])}",
              f"- malignancy (positive class: malignant) at the argmax: sensitivity "
              f"{pct(m['sensitivity'])}, specificity {pct(m['specificity'])}, "
              f"PPV {pct(m['ppv'])}, NPV {pct(m['npv'])}",
              f"- malignancy ROC AUC: {ci_num(boot['malignancy_auc'])}",
              f"- expected calibration error: {num(ev['calibration']['ece'])} "
              f"({ev['calibration']['method']})", ""]
    return "\n".join(lines)


def read_curve(model_dir):
    with open(os.path.join(model_dir, "train_log.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def best_epoch(curve):
    """The epoch --keep-best keeps: the first with the highest validation accuracy."""
    return max(curve, key=lambda r: (r["validation_accuracy"], -r["epoch"]))


def curve_table(curve, every=5):
    """Every `every`-th epoch, the first and the kept one; train_log.jsonl has them all."""
    keep = {1, curve[-1]["epoch"], best_epoch(curve)["epoch"]}
    rows = ["| epoch | train loss | train acc | validation loss | validation acc | seconds |",
            "|---|---|---|---|---|---|"]
    for r in curve:
        if r["epoch"] % every and r["epoch"] not in keep:
            continue
        mark = " (kept)" if r["epoch"] == best_epoch(curve)["epoch"] else ""
        rows.append(f"| {r['epoch']}{mark} | {r['train_loss']:.4f} | {r['train_accuracy']:.3f} | "
                    f"{r['validation_loss']:.4f} | {r['validation_accuracy']:.3f} | "
                    f"{r['seconds']:.0f} |")
    return "\n".join(rows)


def majority_share(ev):
    """Accuracy of always answering the data set's most common class."""
    supports = [ev["classification_report"][c]["support"] for c in ev["dataset_classes"]]
    return max(supports) / sum(supports)


def main():
    model_dir, reports, command = sys.argv[1], sys.argv[2], sys.argv[3]
    config = load(os.path.join(model_dir, "config.json"))
    split = load(os.path.join(model_dir, "split.json"))
    args = load(os.path.join(model_dir, "training_args.json"))
    test = load(os.path.join(reports, "eval_test.json"))
    external = load(os.path.join(reports, "eval_bus_uc.json"))
    audit_busi = load(os.path.join(reports, "audit_busi.json"))
    audit_split = load(os.path.join(reports, "audit_split.json"))
    with open(os.path.join(reports, "train_seconds.txt"), encoding="utf-8") as f:
        train_minutes = float(f.read()) / 60
    template_path = os.path.join(os.path.dirname(__file__), "model_card_template.md")
    with open(template_path, encoding="utf-8") as f:
        template = f.read()
    fields = {
        "command": command,
        "hidden": config["hidden_size"], "layers": config["num_hidden_layers"],
        "heads": config["num_attention_heads"], "image": config["image_size"],
        "patch": config["patch_size"],
        "labels": ", ".join(f"{k} {v}" for k, v in config["id2label"].items()),
        "epochs": args["epochs"], "batch_size": args["batch_size"], "minutes": f"{train_minutes:.0f}",
        "n_train": split["counts"]["train"], "n_val": split["counts"]["validation"],
        "n_test": split["counts"]["test"], "n_groups": len(split["groups"]),
        "grouping": split["grouping"] or "none", "seed": split["seed"],
        "curve": curve_table(read_curve(model_dir)),
        "kept_epoch": best_epoch(read_curve(model_dir))["epoch"],
        "kept_val": pct(best_epoch(read_curve(model_dir))["validation_accuracy"]),
        "test_accuracy": ci(test["bootstrap"]["accuracy"]),
        "test_majority": pct(majority_share(test)),
        "external_accuracy": ci(external["bootstrap"]["accuracy"]),
        "external_majority": pct(majority_share(external)),
        "external_auc": ci_num(external["bootstrap"]["malignancy_auc"]),
        "test_section": evaluation_section("BUSI test split (grouped, held out)", test),
        "external_section": evaluation_section("BUS-UC (external: another hospital and device)",
                                               external),
        "audit_busi": "\n".join(f"- {v}" for v in audit_busi["verdicts"]),
        "audit_split": "\n".join(f"- {v}" for v in audit_split["verdicts"]),
    }
    card = template.format(**fields)
    tmp = os.path.join(model_dir, "README.md.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(card)
    os.replace(tmp, os.path.join(model_dir, "README.md"))


if __name__ == "__main__":
    main()
