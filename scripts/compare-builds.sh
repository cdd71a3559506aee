#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Output check for changes that must not change output: runs two nfm-xdp binaries on every
# capture (../shared/pcaps when present, tests/data, tests/regress) with every profile and
# feature set and a few option sets, and compares their CSV byte for byte.
# Usage: scripts/compare-builds.sh OLD_BINARY NEW_BINARY [EXTRA_OPTIONS...]
#   EXTRA_OPTIONS are added to every run of both binaries (e.g. --threads 2).
# Prints one line per differing run and a closing "N identical, M differ" line; exit 1 if any differ.
set -uo pipefail
old=${1:?usage: compare-builds.sh OLD NEW [OPTIONS...]}
new=${2:?usage: compare-builds.sh OLD NEW [OPTIONS...]}
shift 2
extra=("$@")
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

captures=()
for d in ../shared/pcaps tests/data tests/regress; do
  [[ -d $d ]] || continue
  while IFS= read -r -d '' f; do captures+=("$f"); done < <(find "$d" -maxdepth 1 -type f \
      \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' \) -print0 | sort -z)
done
[[ -d ../shared/pcaps ]] || echo "compare-builds: NOTE: ../shared/pcaps absent, comparing tests/ captures only"

configs=(
  "--profile corrected"
  "--profile corrected --float-format .6f --idle-timeout 3 --active-timeout 20"
  "--profile nfm2022"
  "--profile nfm2022-seed"
  "--profile cic"
  "--profile ntl"
  "--feature-set cic"
  "--feature-set ntl"
  "--feature-set ntl --ntl-max-packets 16 --float-format .3g"
  "--profile corrected --labels-none"
)
same=0 differ=0
for f in "${captures[@]}"; do
  for c in "${configs[@]}"; do
    # shellcheck disable=SC2206
    opts=($c)
    [[ ${opts[-1]} == --labels-none ]] && opts=("${opts[@]:0:${#opts[@]}-1}" --loss-column)
    "$old" --pcap "$f" "${opts[@]}" "${extra[@]}" --no-manifest --no-progress --csv "$tmp/a.csv" \
        >/dev/null 2>"$tmp/a.err"
    ra=$?
    "$new" --pcap "$f" "${opts[@]}" "${extra[@]}" --no-manifest --no-progress --csv "$tmp/b.csv" \
        >/dev/null 2>"$tmp/b.err"
    rb=$?
    if [[ $ra -eq $rb ]] && cmp -s "$tmp/a.csv" "$tmp/b.csv" 2>/dev/null; then
      same=$((same + 1))
    elif [[ $ra -eq $rb && ! -e $tmp/a.csv && ! -e $tmp/b.csv ]]; then
      same=$((same + 1))
    else
      differ=$((differ + 1))
      echo "DIFFER: $f [$c] exit $ra vs $rb"
    fi
    rm -f "$tmp/a.csv" "$tmp/b.csv"
  done
done
echo "compare-builds: $same identical, $differ differ (${#captures[@]} captures x ${#configs[@]} option sets)"
[[ $differ -eq 0 ]]
