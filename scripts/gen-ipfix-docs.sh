#!/bin/sh
# SPDX-License-Identifier: MIT
# Regenerates the IPFIX element tables in docs/IPFIX.md and the information models in
# deploy/ipfix/ from the binary (`nfm-xdp [set] --ipfix-elements md|xml`), so they cannot drift
# from the CSV column tables: nfm-xdp.xml (nfm set), nfm-xdp-cic.xml (--profile cic and
# --feature-set cic), nfm-xdp-ntl.xml (--feature-set ntl: the 339 elements of --profile ntl
# plus the corrected set's two).
# Usage: scripts/gen-ipfix-docs.sh [path/to/nfm-xdp]   (ctest -R ipfix.docs checks the result)
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$src/build/nfm-xdp}
"$bin" --ipfix-elements xml > "$src/deploy/ipfix/nfm-xdp.xml"
"$bin" --profile cic --ipfix-elements xml > "$src/deploy/ipfix/nfm-xdp-cic.xml"
"$bin" --feature-set ntl --ipfix-elements xml > "$src/deploy/ipfix/nfm-xdp-ntl.xml"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" --ipfix-elements md > "$tmp/nfm.md"
"$bin" --profile cic --ipfix-elements md > "$tmp/cic.md"
"$bin" --feature-set ntl --ipfix-elements md > "$tmp/ntl.md"
python3 - "$src/docs/IPFIX.md" "$tmp" <<'PY'
import re, sys
doc, tmp = open(sys.argv[1]).read(), sys.argv[2]
for flags, part in (("", "nfm"), ("--profile cic ", "cic"), ("--feature-set ntl ", "ntl")):
    begin = "<!-- BEGIN generated: nfm-xdp " + flags + "--ipfix-elements md -->\n"
    end = "<!-- END generated -->"
    table = open(f"{tmp}/{part}.md").read()
    if begin not in doc:
        sys.exit(f"docs/IPFIX.md lacks the marker {begin.strip()}")
    doc = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda m: begin + table + end, doc, count=1, flags=re.S)
open(sys.argv[1], "w").write(doc)
PY
