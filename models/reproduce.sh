#!/usr/bin/env bash
# Reproduce the default model of models/ from ../shared/data (or $MAMMOVIEW_DATA):
#
#   bash models/reproduce.sh          (make model)
#
# ~1 min to extract the patches, <= 58 min to train on this 2-core CPU, then the best epoch
# is installed as the default in models/ (a new file name: the sha256 of the weights).
set -euo pipefail
cd "$(dirname "$0")/.."
MV=${MV:-.venv/bin/mammoview}
RUNS=${RUNS:-runs}
$MV extract-patches --out "$RUNS/patches/ctx" --context 32 --workers 2 --quiet
$MV train --patches "$RUNS/patches/ctx" --arch paper_cnn --out "$RUNS/paper_cnn-ctx" \
  --patience 6 --max-minutes 58 --threads 2 --quiet \
  --install-to models --make-default
