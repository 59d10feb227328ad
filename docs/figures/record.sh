#!/bin/sh
# Record the run and study folders that docs/figures is drawn from (`make figures` redraws the
# figures from these archives without training; rerun this only to record new runs).
# Each is a real run of a shipped scenario; the two studies are shortened with --set (named
# *-reduced, and their figures' titles count their agents), the runs are as shipped.
# About 25 CPU minutes on a 2-core machine. Usage: sh docs/figures/record.sh (from the repo root).
set -e
plastilab=${PLASTILAB:-plastilab}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
record() {  # record NAME ARGS...: run plastilab, archive its one folder as runs/NAME.tar.xz
  name=$1; shift
  "$plastilab" run "$@" --quiet --threads 1 --out "$tmp/$name" >/dev/null
  folder=$(ls -d "$tmp/$name"/*/*)
  mv "$folder" "$tmp/$name/$name"
  tar -C "$tmp/$name" -cJf "docs/figures/runs/$name.tar.xz" --exclude=figures --exclude=checkpoint.pt "$name"
}
# The demo (Figure 1, five seeds) and the Adam scenario with every instrument on, three seeds.
record adam-quick scenarios/adam-quick.toml
record adam-instruments scenarios/adam-instruments.toml --seeds 3
# The interventions comparison as shipped (8 interventions x 2 seeds).
record interventions-quick scenarios/interventions-quick.toml
# falsification-quick shortened: 4,000 environment steps (not 15,000), checkpoints every 1,000,
# 2 seeds (not 3): 12 agents.
record falsification-reduced scenarios/falsification-quick.toml --workers 1 \
  --set training.total_steps=4000 --set instruments.probe.every=1000 --set instruments.stats.every=1000 \
  --set instruments.hessian.every=1000 --set instruments.covariance.every=1000 --set study.seeds=2
# scaling-quick shortened: 4 tasks of 300 steps (not 8): 18 agents, widths 32..1024 x 3 seeds.
record scaling-reduced scenarios/scaling-quick.toml --workers 1 --set task.n_iterations=4
