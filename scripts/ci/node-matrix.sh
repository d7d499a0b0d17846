#!/usr/bin/env bash
# The whole test suite (vitest: the real PDS + PLC, AppView, example server, session, transport,
# package and browser tests) on the supported Node majors other than the machine's. .ci/run calls it
# after `npm test` (the machine's Node 20). On its own: `bash scripts/ci/node-matrix.sh [VERSION...]`
# (default: the pinned versions below but the machine's major).
#
# Each Node is the official build from the npm registry's node-linux-<arch> package, fetched with
# `npm pack` (integrity-checked by npm) into node_modules/.cache/node-matrix/ (NODE_MATRIX_CACHE to
# move it), outside the repository; `npm ci` clears it.
#
# Native addons: the PDS's better-sqlite3 is built per Node ABI. node_modules keeps the one
# @atproto/pds asks for, built for the machine's Node, untouched. Other Nodes get better-sqlite3 13,
# a Node-API addon (ABI-stable: one binary for Node 22 and 24), installed from the registry beside
# node_modules, and scripts/ci/better-sqlite3-redirect.cjs (preloaded with NODE_OPTIONS into every
# process of that run, children included) resolves require('better-sqlite3') to it. Nothing in
# node_modules is rebuilt, so neither a run nor an interrupted one can break the machine's Node.
#
# Runs every version, prints a summary, and exits non-zero if any failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
repo="$(pwd)"

# The supported majors, pinned; by default every one but the machine's own major, which `npm test` covers.
# The firehose bench runs on the same Node 22 (NODE_22 in scripts/bench/newer-node.ts): change both.
PINNED=(20.20.2 22.23.3 24.21.0)
# The PDS's SQLite binding on other Nodes than the machine's (Node-API 10: Node >= 22.14).
SQLITE_VERSION=13.2.0

host_version="$(node --version)"
host_abi="$(node -p process.versions.modules)"
versions=("$@")
if [ ${#versions[@]} -eq 0 ]; then
  host_major="${host_version#v}"
  host_major="${host_major%%.*}"
  for pinned in "${PINNED[@]}"; do [ "${pinned%%.*}" = "$host_major" ] || versions+=("$pinned"); done
fi

cache="${NODE_MATRIX_CACHE:-$repo/node_modules/.cache/node-matrix}"
mkdir -p "$cache/logs"
cache="$(cd "$cache" && pwd)"
logs="$cache/logs"

case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "node-matrix: no node-linux package for $(uname -m)" >&2; exit 1 ;;
esac

preload="$repo/scripts/ci/better-sqlite3-redirect.cjs"
log() { echo "node-matrix: $*" >&2; }

# $1 = version; prints the Node's directory (bin/node, include/node) once it is in the cache.
install_node() {
  local version="$1" dir="$cache/node-$1" tmp
  if [ -x "$dir/bin/node" ] && [ "$("$dir/bin/node" --version 2>/dev/null)" = "v$version" ]; then
    echo "$dir"
    return 0
  fi
  log "installing node-linux-$arch@$version from the npm registry"
  tmp="$(mktemp -d "$cache/.node-$version.XXXXXX")"
  if (cd "$tmp" && npm pack --silent "node-linux-$arch@$version" >/dev/null) && mkdir "$tmp/node" &&
    tar xzf "$tmp/node-linux-$arch-$version.tgz" -C "$tmp/node" --strip-components=1 &&
    [ "$("$tmp/node/bin/node" --version 2>/dev/null)" = "v$version" ]; then
    rm -rf "$dir"
    mv "$tmp/node" "$dir"
    rm -rf "$tmp"
    echo "$dir"
  else
    rm -rf "$tmp"
    log "could not install node-linux-$arch@$version"
    return 1
  fi
}

# $1 = a Node's directory; prints the prefix whose node_modules holds better-sqlite3 $SQLITE_VERSION.
install_sqlite() {
  local nodedir="$1" dir="$cache/better-sqlite3-$SQLITE_VERSION" tmp
  if [ "$(cat "$dir/.complete" 2>/dev/null)" = "$SQLITE_VERSION" ]; then
    echo "$dir"
    return 0
  fi
  log "installing better-sqlite3@$SQLITE_VERSION (Node-API) from the npm registry beside node_modules"
  tmp="$(mktemp -d "$cache/.better-sqlite3.XXXXXX")"
  if (cd "$tmp" && echo '{"private":true}' >package.json &&
    PATH="$nodedir/bin:$PATH" npm install --silent --no-audit --no-fund --prefix "$tmp" \
      "better-sqlite3@$SQLITE_VERSION" >"$logs/better-sqlite3-install.log" 2>&1); then
    echo "$SQLITE_VERSION" >"$tmp/.complete"
    rm -rf "$dir"
    mv "$tmp" "$dir"
    echo "$dir"
  else
    cat "$logs/better-sqlite3-install.log" >&2
    rm -rf "$tmp"
    return 1
  fi
}

summary=()
failed=0
if [ -n "${NODE_MATRIX_HOST_SECONDS:-}" ]; then
  summary+=("$(printf '%-9s ABI %-4s %-7s %5ss  %s' "$host_version" "$host_abi" passed "$NODE_MATRIX_HOST_SECONDS" \
    "the machine's node ($(command -v node)), node_modules' own better-sqlite3: the full 'npm test' before this")")
fi

for version in "${versions[@]}"; do
  start=$SECONDS
  echo "node-matrix: === Node $version ==="
  result=failed abi="?" detail=""
  if ! nodedir="$(install_node "$version")"; then
    detail="node-linux-$arch@$version could not be installed from the npm registry"
  else
    node="$nodedir/bin/node"
    abi="$("$node" -p process.versions.modules)"
    run_env=(PATH="$nodedir/bin:$PATH")
    ready=true
    if [ "$abi" != "$host_abi" ]; then
      napi="$("$node" -p process.versions.napi)"
      if [ "$napi" -lt 10 ]; then
        ready=false
        detail="no SQLite binding for the PDS here: node_modules' better-sqlite3 is built for ABI $host_abi, and better-sqlite3 $SQLITE_VERSION needs Node-API 10 (this Node has $napi)"
      elif ! prefix="$(install_sqlite "$nodedir")"; then
        ready=false
        detail="better-sqlite3@$SQLITE_VERSION could not be installed from the npm registry"
      else
        run_env+=(NODE_OPTIONS="--require \"$preload\" ${NODE_OPTIONS:-}" NODE_MATRIX_SQLITE_PREFIX="$prefix"
          NODE_MATRIX_NODE="v$version")
      fi
    fi
    # The PDS's better-sqlite3, as the PDS resolves it, loads and works under this Node.
    if $ready && ! smoke="$(env "${run_env[@]}" "$node" -e "
        const pdsRequire = require('node:module').createRequire(require.resolve('@atproto/pds'))
        const file = pdsRequire.resolve('better-sqlite3')
        const Database = pdsRequire('better-sqlite3')
        const db = new Database(':memory:')
        const sqlite = db.prepare('select sqlite_version() v').get().v
        db.close()
        console.log(process.version + ' (ABI ' + process.versions.modules + '): the PDS gets better-sqlite3 '
          + pdsRequire('better-sqlite3/package.json').version + ' (SQLite ' + sqlite + ') from ' + require('node:path').dirname(require('node:path').dirname(file)))
      " 2>&1)"; then
      echo "$smoke" >&2
      ready=false
      detail="the PDS's better-sqlite3 does not load under this Node"
    fi
    if $ready; then
      echo "node-matrix: $smoke"
      testlog="$logs/vitest-node-$version.log"
      # vitest's workers are forks of this node (process.execPath); npm, npx and tsx, found on PATH,
      # run under it too.
      env "${run_env[@]}" "$node" node_modules/vitest/vitest.mjs run 2>&1 | tee "$testlog"
      code=${PIPESTATUS[0]}
      plain="$(sed 's/\x1b\[[0-9;]*m//g' "$testlog")"
      files="$(grep -E '^ *Test Files ' <<<"$plain" | tail -1 | sed -E 's/^ *Test Files +//')"
      tests="$(grep -E '^ *Tests ' <<<"$plain" | tail -1 | sed -E 's/^ *Tests +//')"
      errors="$(grep -E '^ *Errors ' <<<"$plain" | tail -1 | sed -E 's/^ *Errors +//')"
      detail="files: ${files:-?}; tests: ${tests:-?}${errors:+; errors: $errors}; log: $testlog"
      if [ "$code" -eq 0 ] && [ -n "$tests" ]; then result=passed; fi
    fi
  fi
  [ "$result" = passed ] || failed=1
  summary+=("$(printf '%-9s ABI %-4s %-7s %5ss  %s' "v$version" "$abi" "$result" "$((SECONDS - start))" "$detail")")
done

# The machine's Node still loads node_modules' own build.
if host_check="$(node -e "new (require('better-sqlite3'))(':memory:').close(); console.log('ok')" 2>&1)" &&
  [ "$host_check" = ok ]; then
  host_line="node_modules' own better-sqlite3 still loads on the machine's $host_version"
else
  host_line="node_modules' own better-sqlite3 NO LONGER LOADS on the machine's $host_version: $host_check"
  failed=1
fi

echo
echo "Node matrix (the whole vitest suite on each Node; real PDS + PLC, AppView, browser and package tests):"
for line in "${summary[@]}"; do echo "  $line"; done
echo "  $host_line"
if [ "$failed" -ne 0 ]; then
  echo "node-matrix: FAILED on at least one Node version (see above)" >&2
  exit 1
fi
