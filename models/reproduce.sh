#!/usr/bin/env bash
# Reproduce the default model of models/ from ../shared/data (or $MAMMOVIEW_DATA):
#
#   bash models/reproduce.sh          (or: make model)
#   MODELS=runs/models RUNS=runs/r2 bash models/reproduce.sh    (install into another folder, e.g. a copy)
#
# 1. patches with 32 px of context (~1 min);
# 2. a first VGG-style model on them (18 min);
# 3. the same patches plus hard negatives: normal tissue where that first model's whole-image
#    maps are most wrong (~2.5 min);
# 4. a second VGG-style model on those (38 min; the cosine schedule follows the wall clock);
# 5. the two models as one network whose logits and maps are the mean of theirs
#    (`mammoview ensemble`: no more training; the first model is already there from step 2);
# 6. its evaluation on the validation patients with mirror test-time augmentation and maps
#    averaged over 96 and 64 px windows (~1-8 min), whose FROC operating point at 1 false
#    positive per CBIS image becomes the finding threshold;
# 7. installed as the default in models/ (a new file name: the sha256 of the weights), with
#    test_time_flip on, map_windows_px [96, 64] and that evaluation's FROC curve (the viewer's
#    false marks per image beside each score).
# 8. its verifier (mammoview-verifier, last block): a second network that re-scores each candidate of the
#    detector, trained on the detector's own false positives (~15 min + ~15 of detection and evaluation).
# About 56 minutes of training (18 + 38; + ~12 of extraction and evaluation) on this 2-core CPU for the
# detector, then the density (23), malignancy (10) and verification (15) networks.
# The runs are capped by wall-clock minutes, so the number of epochs (and the exact weights)
# depends on the machine and on what else runs on it.  Both runs train in float32 (`--precision
# fp32`), as the shipped weights were: bf16 (the default where the CPU has AMX) gives the same
# model per epoch ~2.3x faster, so within the same minutes it would run more epochs than this
# recipe did (see MODEL_CARD.md, "Versions").
set -euo pipefail
cd "$(dirname "$0")/.."
MV=${MV:-.venv/bin/mammoview}
PY=${PY:-.venv/bin/python}
RUNS=${RUNS:-runs}
# where the models are installed (and read back by evaluate/detect); a copy keeps the shipped ones
MODELS=${MODELS:-models}
export MAMMOVIEW_MODELS="$MODELS"
$MV extract-patches --out "$RUNS/patches/ctx" --context 32 --workers 2 --quiet
$MV train --patches "$RUNS/patches/ctx" --arch vgg --out "$RUNS/vgg-ctx" --overwrite \
  --patience 6 --max-minutes 18 --threads 2 --precision fp32 --quiet
$MV extract-patches --out "$RUNS/patches/ctx-hn" --context 32 --workers 2 --quiet \
  --hard-negatives-from "$RUNS/vgg-ctx" --hard-negatives 4
$MV train --patches "$RUNS/patches/ctx-hn" --arch vgg --out "$RUNS/vgg-hn" --overwrite \
  --epochs 30 --patience 8 --max-minutes 38 --time-schedule --threads 2 --precision fp32 --quiet
ENSEMBLE=("$RUNS/vgg-ctx" "$RUNS/vgg-hn")
$MV ensemble "${ENSEMBLE[@]}" --name mammoview-vgg --install-to "$RUNS/ensemble" --patches "$RUNS/patches/ctx" \
  --test-time-flip --map-windows 96 64
$MV evaluate --weights "$RUNS/ensemble" --patches "$RUNS/patches/ctx" --out "$RUNS/eval/ensemble" --quiet
THRESHOLD=$($PY -c 'import json, sys; m = json.load(open(sys.argv[1]))
print(m["detection"]["froc"]["cbis_mass"]["threshold_at"]["1"])' "$RUNS/eval/ensemble/metrics.json")
$MV ensemble "${ENSEMBLE[@]}" --name mammoview-vgg --install-to "$MODELS" --patches "$RUNS/patches/ctx" \
  --make-default --test-time-flip --map-windows 96 64 --finding-threshold "$THRESHOLD" --model-version 1.3.7 \
  --operating-curve "$RUNS/eval/ensemble/metrics.json" --malignancy-calibration "$RUNS/eval/ensemble/metrics.json"
# Breast density (a separate whole-breast network, task "density"; ~23 min): the CAD's split, so the
# same validation patients; mini-MIAS is its external test.
$MV train-density --out "$RUNS/density/d15" --split "$RUNS/patches/ctx/split.json" --pixel-size 1.5 \
  --epochs 30 --threads 2 --quiet --install-to "$MODELS" --model-version 1.1.0
# Second-stage malignancy (task "malignancy", ~10 min): the paper's 4-conv CNN on whole lesions at 0.6 mm
# (64 px + 16 px context = 58 mm), the CAD's patient split (same sources and seed as runs/patches/ctx);
# read at each finding by the engine.  Its calibration is fitted by evaluating the whole CAD with it.
$MV extract-patches --out "$RUNS/patches/mal6s" --pixel-size 0.6 --patch-size 64 --context 16 \
  --cbis-normal-patches 1 --mias-normal-patches 1 --cbis-lesion-patches 8 --mias-lesion-patches 16 --jitter 0.1 \
  --workers 2 --quiet
$MV train --patches "$RUNS/patches/mal6s" --arch paper_cnn --out "$RUNS/cnn-mal6s" --overwrite --malignant-weight 2.0 \
  --monitor malignant_auc --epochs 30 --patience 6 --max-minutes 10 --time-schedule --threads 2 --quiet
$MV train --patches "$RUNS/patches/mal6s" --arch paper_cnn --out "$RUNS/cnn-mal6s" --install-only --install-to "$MODELS" \
  --task malignancy --test-time-flip --name mammoview-malignancy --model-version 1.0.5
$MV evaluate --model mammoview-vgg --patches "$RUNS/patches/ctx" --out "$RUNS/eval/with-malignancy" --quiet
$MV train --patches "$RUNS/patches/mal6s" --arch paper_cnn --out "$RUNS/cnn-mal6s" --install-only --install-to "$MODELS" \
  --task malignancy --test-time-flip --name mammoview-malignancy --model-version 1.0.5 \
  --malignancy-calibration "$RUNS/eval/with-malignancy/metrics.json"
# Verification (task "verification", ~20-30 min: 13-15 of training, ~5 of candidates and patches, then the evaluation
# that sets its threshold): the detector's candidates on every image (its map cut at 0.1, 25 per
# image, without any second stage), a VGG-style network at 0.6 mm (64 px + 16 px context) trained on the lesions
# against those candidates that miss every lesion, installed as the detector's verifier; its threshold and FROC curve
# are the two stages' on the validation patients.
DATA=${MAMMOVIEW_DATA:-../shared/data}
$MV detect "$DATA/cbis-ddsm-mass/images" --pixel-spacing 0.29,0.1769 --threshold 0.1 --max-findings 25 \
  --no-verification --no-malignancy-model --json "$RUNS/cand/cbis.json" --quiet
$MV detect "$DATA/mini-mias/images" --pixel-spacing 0.2 --threshold 0.1 --max-findings 25 \
  --no-verification --no-malignancy-model --json "$RUNS/cand/mias.json" --quiet
$MV extract-patches --out "$RUNS/patches/fp6" --pixel-size 0.6 --patch-size 64 --context 16 --magic5 exclude \
  --cbis-normal-patches 1 --mias-normal-patches 2 --cbis-lesion-patches 8 --mias-lesion-patches 16 --jitter 0.25 \
  --normal-margin 0 --hard-negatives-from-detections "$RUNS/cand/cbis.json" "$RUNS/cand/mias.json" \
  --hard-negatives 8 --hard-negative-min-score 0.1 --workers 2 --quiet
$MV train --patches "$RUNS/patches/fp6" --arch vgg --out "$RUNS/vgg-fp6" --overwrite --epochs 30 --patience 8 --max-minutes 15 \
  --time-schedule --threads 2 --monitor auc --quiet
$MV train --patches "$RUNS/patches/fp6" --out "$RUNS/vgg-fp6" --install-only --install-to "$MODELS" --task verification \
  --name mammoview-verifier --model-version 1.0.5
$MV evaluate --model mammoview-vgg --patches "$RUNS/patches/ctx" --out "$RUNS/eval/verified" --quiet
THRESHOLD=$($PY -c 'import json, sys; m = json.load(open(sys.argv[1]))
print(m["detection"]["froc"]["cbis_mass"]["threshold_at"]["1"])' "$RUNS/eval/verified/metrics.json")
$MV train --patches "$RUNS/patches/fp6" --out "$RUNS/vgg-fp6" --install-only --install-to "$MODELS" --task verification \
  --name mammoview-verifier --model-version 1.0.5 --finding-threshold "$THRESHOLD" \
  --operating-curve "$RUNS/eval/verified/metrics.json"
