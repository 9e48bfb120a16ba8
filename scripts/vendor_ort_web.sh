#!/usr/bin/env bash
# Re-vendor onnxruntime-web's WebAssembly build into demo/web/ort/ (the app serves it itself: never a CDN).
#   bash scripts/vendor_ort_web.sh 1.30.0
# Only what the wasm backend needs: the ES-module bundle (API + Emscripten glue), the glue as a separate module
# (its worker proxy imports it), the SIMD wasm binary gzipped (14.2 MB → 3.7 MB in git; demo/live.py unpacks it once
# into a cache folder), and the MIT licence. Needs npm (registry access) once.
set -euo pipefail
USAGE="usage: bash scripts/vendor_ort_web.sh VERSION   (e.g. 1.30.0: onnxruntime-web's version on npm)"
case "${1:-}" in
  -h|--help) echo "$USAGE"; sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  [0-9]*.[0-9]*.[0-9]*) VERSION="$1" ;;
  *) echo "$USAGE" >&2; exit 2 ;;
esac
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/demo/web/ort"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
(cd "$TMP" && npm pack --silent "onnxruntime-web@$VERSION" >/dev/null && tar xzf onnxruntime-web-*.tgz)
rm -rf "$DEST" && mkdir -p "$DEST"
for f in ort.wasm.bundle.min.mjs ort-wasm-simd-threaded.mjs; do
  cp "$TMP/package/dist/$f" "$DEST/$f"
done
gzip -9 -n -c "$TMP/package/dist/ort-wasm-simd-threaded.wasm" > "$DEST/ort-wasm-simd-threaded.wasm.gz"
LICENSE_TEXT="$(node -e 'console.log(require(process.argv[1]).license)' "$TMP/package/package.json" 2>/dev/null || echo MIT)"
[ "$LICENSE_TEXT" = "MIT" ] || { echo "onnxruntime-web $VERSION is not MIT-licensed ($LICENSE_TEXT): check before vendoring" >&2; exit 1; }
cat > "$DEST/LICENSE" <<'LIC'
MIT License

Copyright (c) Microsoft Corporation. All rights reserved.

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
LIC
{
  echo "onnxruntime-web $VERSION (npm), vendored by scripts/vendor_ort_web.sh"
  (cd "$DEST" && sha256sum ort.wasm.bundle.min.mjs ort-wasm-simd-threaded.mjs)
  (cd "$TMP/package/dist" && sha256sum ort-wasm-simd-threaded.wasm)
} > "$DEST/VERSION"
du -b "$DEST"/* | sort -n
