#!/usr/bin/env bash
# Every `§N` / `§N.M` cited in src/ and tests/ must be a numbered heading of docs/protocol.md.
# (All section signs in the code cite that document.) Exit status 1 lists the dangling ones.
set -euo pipefail
cd "$(dirname "$0")/.."
sections=$(grep -oE '^#{2,3} [0-9]+(\.[0-9]+)?\.? ' docs/protocol.md | grep -oE '[0-9]+(\.[0-9]+)?')
bad=0
while IFS= read -r hit; do
    file=${hit%%:*}
    rest=${hit#*:}
    line=${rest%%:*}
    ref=${hit##*§}
    if ! grep -qxF "$ref" <<<"$sections"; then
        echo "$file:$line: §$ref is not a section of docs/protocol.md"
        bad=1
    fi
done < <(grep -rnoE '§[0-9]+(\.[0-9]+)?' src tests)
# A citation names the document by its path in the repository.
while IFS= read -r hit; do
    echo "$hit: cite docs/protocol.md, the copy in this repository"
    bad=1
done < <(grep -rnE '(^|[^/])protocol\.md' src tests | grep -v 'docs/protocol\.md' || true)
if [ "$bad" = 0 ]; then
    echo "all $(grep -rnoE '§[0-9]+(\.[0-9]+)?' src tests | wc -l) section references resolve"
fi
exit "$bad"
