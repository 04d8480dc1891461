#!/usr/bin/env bash
# Rebuild plotly-scattergl-VERSION.min.js: plotly.js's core with the scattergl
# trace only, bundled with the esbuild settings of plotly.js's own
# esbuild-config.js (minified, licence comments kept at the end).
#
# Usage: bash devtools/vendor/build_plotly.sh [VERSION]   (default 3.7.0)
# Needs node and npm with access to the npm registry; works in a temporary
# folder and writes only the bundle next to this script.
set -euo pipefail
VERSION="${1:-3.7.0}"
HERE="$(cd "$(dirname "$0")" && pwd)"
OUT="$HERE/plotly-scattergl-$VERSION.min.js"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
npm pack --silent "plotly.js@$VERSION" >/dev/null
tar xzf "plotly.js-$VERSION.tgz"
cd package
npm install --omit=dev --ignore-scripts --no-audit --no-fund --silent
npm install --no-save --ignore-scripts --no-audit --no-fund --silent stream-browserify@3.0.0
mkdir ../tools
(cd ../tools && npm init -y >/dev/null && npm install --ignore-scripts --no-audit \
  --no-fund --silent esbuild@0.28.2 esbuild-plugin-glsl@1.4.2 \
  esbuild-plugin-environment@0.4.0 esbuild-plugin-inline-css@0.0.1)
cat > lib/index-vaeapp.js <<'JS'
'use strict';

var Plotly = require('./core');

Plotly.register([require('./scattergl')]);

module.exports = Plotly;
JS
cat > ../tools/build.js <<'JS'
const esbuild = require('esbuild');
const { environmentPlugin } = require('esbuild-plugin-environment');
const { glsl } = require('esbuild-plugin-glsl');
const InlineCSSPlugin = require('esbuild-plugin-inline-css');

esbuild.build({
  entryPoints: [process.argv[3]],
  outfile: process.argv[2],
  format: 'iife',
  globalName: 'Plotly',
  bundle: true,
  minify: true,
  sourcemap: false,
  plugins: [InlineCSSPlugin(), glsl({ minify: true }), environmentPlugin({ NODE_DEBUG: false })],
  alias: { stream: 'stream-browserify' },
  define: { global: 'window', 'define.amd': 'false' },
  target: 'es2016',
  banner: { js: process.argv[4] },
  logLevel: 'warning',
}).catch(() => process.exit(1));
JS
node ../tools/build.js "$OUT.tmp" "$PWD/lib/index-vaeapp.js" \
  "/* plotly.js $VERSION (core + scattergl), MIT licence, built by build_plotly.sh */"
mv "$OUT.tmp" "$OUT"
echo "wrote $OUT ($(wc -c < "$OUT") bytes)"
