#!/bin/sh
# SPDX-License-Identifier: MIT
# Regenerates the IPFIX element table in docs/IPFIX.md and deploy/ipfix/nfm-xdp.xml from the
# binary (`nfm-xdp --ipfix-elements md|xml`), so they cannot drift from the CSV column table.
# Usage: scripts/gen-ipfix-docs.sh [path/to/nfm-xdp]   (ctest -R ipfix.docs checks the result)
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$src/build/nfm-xdp}
"$bin" --ipfix-elements xml > "$src/deploy/ipfix/nfm-xdp.xml"
"$bin" --ipfix-elements md > "$src/deploy/ipfix/.table.md"
python3 - "$src/docs/IPFIX.md" "$src/deploy/ipfix/.table.md" <<'PY'
import re, sys
doc, table = open(sys.argv[1]).read(), open(sys.argv[2]).read()
begin, end = "<!-- BEGIN generated: nfm-xdp --ipfix-elements md -->\n", "<!-- END generated -->"
new = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda m: begin + table + end, doc, flags=re.S)
open(sys.argv[1], "w").write(new)
PY
rm -f "$src/deploy/ipfix/.table.md"
