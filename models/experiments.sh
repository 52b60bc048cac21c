#!/usr/bin/env bash
# The architecture comparison and the preprocessing ablation of models/MODEL_CARD.md.
#
#   bash models/experiments.sh [arch|ablation|evaluate|clahe|pectoral|tables]...   (default: all, in that order;
#   several steps run in the order given, e.g. `arch evaluate tables`)
#
# Needs ../shared/data (or $MAMMOVIEW_DATA) and the context patch set of models/reproduce.sh
# (runs/patches/ctx).  Budgets are set for this 2-core CPU, two runs side by side on one
# thread each: every run is capped by wall-clock minutes and the tables say so.
set -euo pipefail
cd "$(dirname "$0")/.."
MV=${MV:-.venv/bin/mammoview}
RUNS=${RUNS:-runs}
ARCH_MINUTES=${ARCH_MINUTES:-18}
ABL_MINUTES=${ABL_MINUTES:-5}
ABL_STEPS=${ABL_STEPS:-60}
EVAL_IMAGES=${EVAL_IMAGES:-150}

arch() {  # the three networks on the same patches, split and budget (one thread each, ARCH_MINUTES, float32)
  # their own folders: models/reproduce.sh's runs/vgg-ctx (two threads, 18 minutes) is not this budget
  for a in ${ARCHS:-vgg resnet paper_cnn}; do
    [ -f "$RUNS/arch/$a/summary.json" ] || \
      $MV train --patches "$RUNS/patches/ctx" --arch "$a" --out "$RUNS/arch/$a" --overwrite --threads 1 \
        --precision fp32 --max-minutes "$ARCH_MINUTES" --patience 6 --quiet
  done
}

ablation() {  # one switch at a time on bare 96 px patches, the same seed and patients
  declare -A flags=(
    [baseline]=""
    [pectoral]="--remove-pectoral"
    [clahe]="--clahe"
    [gaussian]="--gaussian-sigma 0.3"
    [sobel]="--sobel"
    [morphology]="--morphology open-close"
  )
  for name in baseline pectoral clahe gaussian sobel morphology; do
    out="$RUNS/ablation/$name"
    # shellcheck disable=SC2086
    [ -f "$out/patches/manifest.json" ] || \
      $MV extract-patches --out "$out/patches" --context 0 --workers 1 --quiet ${flags[$name]}
    [ -f "$out/run/summary.json" ] || \
      $MV train --patches "$out/patches" --arch paper_cnn --out "$out/run" --overwrite --threads 1 \
        --steps-per-epoch "$ABL_STEPS" --epochs 40 --max-minutes "$ABL_MINUTES" --quiet
    [ -f "$out/eval/metrics.json" ] || \
      $MV evaluate --weights "$out/run" --patches "$out/patches" --no-detect --out "$out/eval" --quiet
    rm -f "$out/patches/patches.npy"  # 200 MB each; the manifest, index and contact sheets stay
  done
}

evaluate() {  # whole-image detect + FROC + timing on the same validation images (one thread each)
  export MAMMOVIEW_THREADS=${MAMMOVIEW_THREADS:-1}
  for a in ${ARCHS:-paper_cnn vgg resnet}; do
    [ -f "$RUNS/eval/$a/metrics.json" ] || \
      $MV evaluate --weights "$RUNS/arch/$a" --patches "$RUNS/patches/ctx" --max-images "$EVAL_IMAGES" \
        --device cpu --out "$RUNS/eval/$a" --quiet
  done
}

switch_check() {  # NAME FLAG: a preprocessing switch on the shipped architecture (VGG), same budget as arch
  local name=$1 flag=$2
  [ -f "$RUNS/patches/ctx-$name/manifest.json" ] || \
    $MV extract-patches --out "$RUNS/patches/ctx-$name" --context 32 "$flag" --workers 1 --quiet
  [ -f "$RUNS/vgg-ctx-$name/summary.json" ] || \
    $MV train --patches "$RUNS/patches/ctx-$name" --arch vgg --out "$RUNS/vgg-ctx-$name" --overwrite --threads 1 \
      --precision fp32 --max-minutes "$ARCH_MINUTES" --patience 6 --quiet
  [ -f "$RUNS/eval/vgg-$name/metrics.json" ] || \
    MAMMOVIEW_THREADS=1 $MV evaluate --weights "$RUNS/vgg-ctx-$name" --patches "$RUNS/patches/ctx-$name" \
      --max-images "$EVAL_IMAGES" --device cpu --out "$RUNS/eval/vgg-$name" --quiet
}

clahe() {  # the ablation's winner checked on the shipped architecture: VGG with / without CLAHE
  switch_check clahe --clahe
}

pectoral() {  # the ablation's runner-up, same check; its baseline re-scored with today's detect
  switch_check pectoral --remove-pectoral
  [ -f "$RUNS/eval/vgg-base/metrics.json" ] || \
    MAMMOVIEW_THREADS=1 $MV evaluate --weights "$RUNS/arch/vgg" --patches "$RUNS/patches/ctx" \
      --max-images "$EVAL_IMAGES" --device cpu --out "$RUNS/eval/vgg-base" --quiet
}

table() {  # OUT LABELS DIR...: one comparison table; skipped (with a note) while an evaluation is missing
  local out=$1 labels=$2 d
  shift 2
  for d in "$@"; do
    [ -f "$d/metrics.json" ] || { echo "$out skipped: no $d/metrics.json yet" >&2; return 0; }
  done
  # shellcheck disable=SC2086
  $MV evaluate --compare "$@" --labels $labels --out "$out"
}

tables() {  # each table whose evaluations exist (e.g. `ablation tables` before the architectures are evaluated)
  table "$RUNS/eval/architectures.md" "paper_cnn vgg resnet" "$RUNS"/eval/{paper_cnn,vgg,resnet}
  table "$RUNS/ablation/ablation.md" "baseline +pectoral +clahe +gaussian +sobel +morphology" \
    "$RUNS"/ablation/{baseline,pectoral,clahe,gaussian,sobel,morphology}/eval
  table "$RUNS/eval/clahe.md" "vgg vgg+clahe" "$RUNS"/eval/{vgg,vgg-clahe}
  table "$RUNS/eval/pectoral.md" "vgg vgg+pectoral" "$RUNS"/eval/{vgg-base,vgg-pectoral}
}

steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(all)
for what in "${steps[@]}"; do  # every name checked before any step runs (hours each)
  case "$what" in
    all|arch|ablation|evaluate|clahe|pectoral|tables) ;;
    *) echo "usage: $0 [arch|ablation|evaluate|clahe|pectoral|tables]..." >&2; exit 2 ;;
  esac
done
for what in "${steps[@]}"; do
  case "$what" in
    all) arch; ablation; evaluate; clahe; pectoral; tables ;;
    *) "$what" ;;
  esac
done
