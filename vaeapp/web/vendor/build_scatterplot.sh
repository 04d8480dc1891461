#!/usr/bin/env bash
# Rebuild regl-scatterplot-VERSION.min.js: the regl-scatterplot npm package
# (WebGL scatter plot: pan/zoom, lasso, millions of points) with its
# dependencies, bundled by esbuild into one minified IIFE that defines
# window.createScatterplot (and window.reglScatterplot, the whole module).
# Its licence and those of the bundled dependencies go to
# regl-scatterplot-LICENSE next to the bundle.
#
# Usage: bash vaeapp/web/vendor/build_scatterplot.sh [VERSION]   (default 1.16.0)
# Needs node and npm with access to the npm registry; works in a temporary
# folder and writes only the bundle and the licence file next to this script.
set -euo pipefail
VERSION="${1:-1.16.0}"
ESBUILD=0.28.2
HERE="$(cd "$(dirname "$0")" && pwd)"
OUT="$HERE/regl-scatterplot-$VERSION.min.js"
LICENSES="$HERE/regl-scatterplot-LICENSE"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
npm init -y >/dev/null
npm install --ignore-scripts --no-audit --no-fund --silent \
  "regl-scatterplot@$VERSION" "esbuild@$ESBUILD"
cat > entry.js <<'JS'
import createScatterplot, * as all from 'regl-scatterplot';

window.createScatterplot = createScatterplot;
window.reglScatterplot = all;
JS
npx esbuild entry.js --bundle --minify --format=iife --target=es2019 \
  --legal-comments=none --log-level=warning \
  "--banner:js=/* regl-scatterplot $VERSION with its dependencies, MIT licences in regl-scatterplot-LICENSE, built by build_scatterplot.sh */" \
  --outfile="$OUT.tmp"
{
  for pkg in regl-scatterplot @flekschas/utils dom-2d-camera earcut gl-matrix \
    pub-sub-es regl regl-line; do
    dir="node_modules/$pkg"
    [ -d "$dir" ] || continue
    version="$(node -p "require('./$dir/package.json').version")"
    echo "== $pkg $version =="
    cat "$dir"/LICEN[CS]E* 2>/dev/null || node -p "require('./$dir/package.json').license"
    echo
  done
  # Whatever else the bundle pulled in, named with its licence field.
  echo "== other bundled packages (name version licence) =="
  npm ls --all --parseable --omit=dev 2>/dev/null | sed 1d | while read -r dir; do
    node -p "const p = require('$dir/package.json'); [p.name, p.version, p.license].join(' ')"
  done | grep -v "^@\?esbuild" | sort -u
} > "$LICENSES.tmp"
mv "$OUT.tmp" "$OUT"
mv "$LICENSES.tmp" "$LICENSES"
echo "wrote $OUT ($(wc -c < "$OUT") bytes) and $LICENSES"
