#!/usr/bin/env bash
# Fetches GraphiQL and React (pinned versions, production builds) from the npm
# registry into assets/graphiql/, which authql embeds and serves itself
# (index.html, authql-graphiql.js and authql-graphiql.css there are authql's
# own and are left alone).
# `npm pack` checks each tarball against the registry's sha512 integrity;
# SHA256SUMS records the files taken from them, and a test checks the
# embedded files against it (tests/api/graphiql.rs).
#
#   bash scripts/update-graphiql.sh            # the versions below
#   GRAPHIQL=4.0.3 REACT=18.3.1 bash scripts/update-graphiql.sh
set -euo pipefail
cd "$(dirname "$0")/.."

GRAPHIQL="${GRAPHIQL:-4.0.3}"
REACT="${REACT:-18.3.1}"
out=assets/graphiql
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "graphiql@$GRAPHIQL" "react@$REACT" "react-dom@$REACT" >/dev/null)
for package in "graphiql-$GRAPHIQL" "react-$REACT" "react-dom-$REACT"; do
    mkdir -p "$work/$package"
    tar xzf "$work/$package.tgz" -C "$work/$package" --strip-components=1
done

cp "$work/graphiql-$GRAPHIQL/graphiql.min.js" "$out/graphiql.min.js"
cp "$work/graphiql-$GRAPHIQL/graphiql.min.css" "$out/graphiql.min.css"
cp "$work/react-$REACT/umd/react.production.min.js" "$out/react.production.min.js"
cp "$work/react-dom-$REACT/umd/react-dom.production.min.js" "$out/react-dom.production.min.js"
# The bundles end with a source-map comment; the maps are not shipped.
sed -i '/^\/\/# sourceMappingURL=/d' "$out"/*.js
sed -i 's|/\*# sourceMappingURL=[^*]*\*/||' "$out/graphiql.min.css"
cat "$work/graphiql-$GRAPHIQL/LICENSE" > "$out/LICENSE-graphiql"
cat "$work/react-$REACT/LICENSE" > "$out/LICENSE-react"

cat > "$out/VERSIONS" <<VERSIONS
graphiql $GRAPHIQL (MIT)
react $REACT (MIT)
react-dom $REACT (MIT)
VERSIONS
(cd "$out" && sha256sum graphiql.min.js graphiql.min.css react.production.min.js react-dom.production.min.js > SHA256SUMS)
echo "assets/graphiql: graphiql $GRAPHIQL, react $REACT"
cat "$out/SHA256SUMS"
